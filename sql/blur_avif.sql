-- AVIF in, AVIF out: the same size, channels and bit depth (8, 10, 12; monochrome stays one
-- channel, alpha stays). The unit tests (test_avif.cpp) check the chroma sampling is kept and
-- the pixels are the blur of the decoded input.
SELECT name, (bytea_image_info(data)).*
FROM fixture WHERE name LIKE '%.avif' ORDER BY name;
SELECT name, (bytea_image_info(bytea_blur(data))).*
FROM fixture WHERE name LIKE '%.avif' AND name <> 'sequence.avif' ORDER BY name;

-- quality maps to AV1's quantizer: a lower one gives fewer bytes. Deterministic.
SELECT length(bytea_blur(data, 1, 20)) < length(bytea_blur(data, 1, 95)) AS lower_quality_fewer_bytes,
       bytea_blur(data, 3) = bytea_blur(data, 3) AS deterministic
FROM fixture WHERE name = 'rgb8_420.avif';

-- The metadata policy: the ICC profile (a colr box of type prof) and the rotation (irot) are
-- kept; EXIF (with its thumbnail) and XMP (items of type Exif and mime) are dropped.
SELECT position('colrprof'::bytea IN data) > 0 AS input_has_icc,
       position('colrprof'::bytea IN bytea_blur(data)) > 0 AS output_has_icc,
       position('irot'::bytea IN bytea_blur(data)) > 0 AS output_has_irot,
       position('Exif'::bytea IN data) > 0 AS input_has_exif,
       position('Exif'::bytea IN bytea_blur(data)) > 0 AS output_has_exif,
       position('\xffd8ff'::bytea IN data) > 0 AS input_has_thumbnail,
       position('\xffd8ff'::bytea IN bytea_blur(data)) > 0 AS output_has_thumbnail,
       position('xmpmeta'::bytea IN data) > 0 AS input_has_xmp,
       position('xmpmeta'::bytea IN bytea_blur(data)) > 0 AS output_has_xmp
FROM fixture WHERE name = 'rgb8_420.avif';

-- An image sequence is described but not blurred (0A000).
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'sequence.avif'$$);

-- To and from the other formats (blur_format writes every fixture in every format): the
-- rotation (irot) turns into pixels for PNG and WebP (the 67x45 rgb8_420.avif shows 45x67)
-- and into the EXIF orientation for JPEG. AVIF with alpha cannot become a JPEG.
SELECT target, (bytea_image_info(bytea_blur(data, format => target))).width,
       (bytea_image_info(bytea_blur(data, format => target))).height
FROM fixture, unnest(ARRAY['jpeg', 'png', 'webp', 'avif']) AS target
WHERE name = 'rgb8_420.avif' ORDER BY target;
SELECT expect_error($$SELECT bytea_blur(data, format => 'jpeg') FROM fixture WHERE name = 'rgba8_422.avif'$$);

-- A clean aperture (clap): clap.avif stores 64x48 and shows the 48x32 photo inside a magenta
-- border. AVIF to AVIF (a blur or a redaction) keeps the stored picture and the clap box; in
-- another format the output is what a viewer shows, the aperture alone (the unit tests check
-- its pixels are the blur of the aperture, and a redaction's boxes are placed on it).
SELECT target, (bytea_image_info(bytea_blur(data, format => target))).width,
       (bytea_image_info(bytea_blur(data, format => target))).height
FROM fixture, unnest(ARRAY['jpeg', 'png', 'webp', 'avif']) AS target
WHERE name = 'clap.avif' ORDER BY target;
SELECT position('clap'::bytea IN data) > 0 AS input_has_clap,
       position('clap'::bytea IN bytea_blur(data)) > 0 AS output_has_clap,
       position('clap'::bytea IN bytea_blur_regions(data, ARRAY[box(point(0, 0), point(10, 10))])) > 0
         AS redaction_has_clap,
       position('clap'::bytea IN bytea_blur(data, format => 'png')) > 0 AS png_has_clap
FROM fixture WHERE name = 'clap.avif';

-- A truncated file gives 22P03 at every length; a file that declares more pixels than
-- bytea_blur.max_pixels gives 54000 before any pixel is decoded.
SELECT DISTINCT split_part(expect_error(format('SELECT bytea_blur(substr(data, 1, %s)) FROM fixture WHERE name = %L', n, name)), ':', 1) AS sqlstate
FROM fixture, generate_series(1, 3300, 7) AS n
WHERE name = 'rgba8_422.avif' AND n < length(data)
ORDER BY 1;
SET bytea_blur.max_pixels = 3014;
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'rgb8_420.avif'$$);
SET bytea_blur.max_pixels = 3015;
SELECT (bytea_image_info(bytea_blur(data))).width FROM fixture WHERE name = 'rgb8_420.avif';
RESET bytea_blur.max_pixels;
