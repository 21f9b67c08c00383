-- The output format argument (1.3). NULL, the default, keeps the input's own format, so every
-- call written before it means what it meant; a name picks another: jpeg (or jpg), png, webp,
-- avif, in any case.
SELECT bytea_blur(data, 3) = bytea_blur(data, 3, 75, NULL) AS null_is_own_format,
       bytea_blur(data, 3) = bytea_blur(data, 3, format => 'JPEG') AS own_format_by_name,
       bytea_blur(data, 3, format => 'jpg') = bytea_blur(data, 3, format => 'jpeg') AS jpg_is_jpeg
FROM fixture WHERE name = 'rgb444.jpg';

-- Every input the blur reads, written in each format that can hold it: what comes out, from
-- its headers. Greyscale stays grey in JPEG, PNG and AVIF and becomes RGB in WebP; 16 bits
-- stay in PNG, become 12 in AVIF and 8 in JPEG and WebP; 10- and 12-bit AVIF become 16-bit
-- PNG; alpha stays in PNG, WebP and AVIF.
SELECT f.name, t.target, (bytea_image_info(bytea_blur(f.data, 2, 80, t.target))).*
FROM fixture f, (VALUES ('jpeg'), ('png'), ('webp'), ('avif')) t(target)
WHERE f.name NOT IN ('animated.webp', 'sequence.avif', 'cmyk.jpg', 'ycck.jpg')
  AND NOT (t.target = 'jpeg' AND (bytea_image_info(f.data)).channels IN (2, 4))
ORDER BY f.name, t.target;

-- EXIF orientation 6 (rgb420.jpg and lossy.webp, stored 67x45): written as JPEG, the tag is
-- kept with the stored size; as PNG (whose output keeps no EXIF) and as WebP from another
-- format (browsers ignore a WebP's EXIF orientation) and as AVIF, the pixels are turned
-- upright, 45x67. A WebP blurred to WebP keeps its tag, as the input had it.
SELECT f.name, t.target, (bytea_image_info(bytea_blur(f.data, 2, 80, t.target))).width,
       (bytea_image_info(bytea_blur(f.data, 2, 80, t.target))).height
FROM fixture f, (VALUES ('jpeg'), ('png'), ('webp'), ('avif')) t(target)
WHERE f.name IN ('rgb420.jpg', 'lossy.webp')
ORDER BY f.name, t.target;

-- The ICC profile travels into each format (JPEG's APP2 ICC_PROFILE, PNG's iCCP, WebP's ICCP,
-- AVIF's colr box of type prof).
SELECT t.target,
       position('ICC_PROFILE'::bytea IN bytea_blur(data, 2, 80, t.target)) > 0 AS jpeg_icc,
       position('iCCP'::bytea IN bytea_blur(data, 2, 80, t.target)) > 0 AS png_icc,
       position('ICCP'::bytea IN bytea_blur(data, 2, 80, t.target)) > 0 AS webp_icc,
       position('colrprof'::bytea IN bytea_blur(data, 2, 80, t.target)) > 0 AS avif_icc
FROM fixture, (VALUES ('jpeg'), ('png'), ('webp'), ('avif')) t(target)
WHERE name = 'iccp.png' ORDER BY 1;

-- A JPEG blurred to WebP is lossy (VP8) at quality, to AVIF too; to PNG, lossless.
SELECT position('VP8 '::bytea IN bytea_blur(data, format => 'webp')) > 0 AS webp_is_lossy,
       length(bytea_blur(data, 5, 20, 'webp')) < length(bytea_blur(data, 5, 95, 'webp')) AS quality_counts,
       length(bytea_blur(data, 5, 20, 'avif')) < length(bytea_blur(data, 5, 95, 'avif')) AS avif_quality_counts
FROM fixture WHERE name = 'sample.jpg';

-- What cannot be written is refused: an unknown name (22023), alpha to JPEG and a CMYK or
-- YCCK JPEG to another format (0A000, with what to do instead).
SELECT expect_error($$SELECT bytea_blur(data, format => 'gif') FROM fixture WHERE name = 'rgb444.jpg'$$);
SELECT expect_error($$SELECT bytea_blur(data, format => '') FROM fixture WHERE name = 'rgb444.jpg'$$);
SELECT name, expect_error(format('SELECT bytea_blur(%L::bytea, format => %L)', data, 'jpeg'))
FROM fixture WHERE name IN ('rgba8.png', 'palette_trns.png', 'rgba_lossy.webp') ORDER BY name;
SELECT name, expect_error(format('SELECT bytea_blur(%L::bytea, format => %L)', data, 'png'))
FROM fixture WHERE name IN ('cmyk.jpg', 'ycck.jpg') ORDER BY name;
-- Bad data is still bad data, whatever the target.
SELECT expect_error($$SELECT bytea_blur('\x89504e470d0a1a0a'::bytea, format => 'webp')$$);

-- Nulls: null data, sigma or quality give null, as before 1.3; a null format is the default.
SELECT bytea_blur(NULL) IS NULL AS null_data, bytea_blur(data, NULL) IS NULL AS null_sigma,
       bytea_blur(data, 5, NULL) IS NULL AS null_quality,
       bytea_blur(data, 5, 75, NULL) IS NOT NULL AS null_format_blurs
FROM fixture WHERE name = 'gray8.png';
