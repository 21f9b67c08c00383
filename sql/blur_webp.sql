-- WebP in, WebP out: the same size and channels; lossless stays lossless (VP8L) and lossy
-- lossy (VP8), alpha stays. (The bitstream's kind is the fourcc of its image chunk.)
SELECT name, (bytea_image_info(bytea_blur(data))).*,
       position('VP8L'::bytea IN data) > 0 AS input_lossless,
       position('VP8L'::bytea IN bytea_blur(data)) > 0 AS output_lossless
FROM fixture WHERE name LIKE '%.webp' AND name <> 'animated.webp' ORDER BY name;

-- quality is the lossy encoder's: a lower one gives fewer bytes. A lossless file ignores it.
SELECT length(bytea_blur(data, 1, 20)) < length(bytea_blur(data, 1, 95)) AS lower_quality_fewer_bytes
FROM fixture WHERE name = 'lossy.webp';
SELECT bytea_blur(data, 2, 10) = bytea_blur(data, 2, 90) AS quality_ignored_when_lossless
FROM fixture WHERE name = 'lossless.webp';

-- Deterministic: the same input gives the same bytes.
SELECT bytea_blur(data, 3) = bytea_blur(data, 3) AS deterministic FROM fixture WHERE name = 'rgba_lossy.webp';

-- The metadata policy: the ICC profile is kept, EXIF is cut to its orientation (the
-- thumbnail, a JPEG inside the EXIF chunk, is dropped), XMP is dropped.
SELECT position('ICCP'::bytea IN data) > 0 AS input_has_icc,
       position('ICCP'::bytea IN bytea_blur(data)) > 0 AS output_has_icc,
       position('EXIF'::bytea IN bytea_blur(data)) > 0 AS output_has_exif,
       position('\xffd8ff'::bytea IN data) > 0 AS input_has_thumbnail,
       position('\xffd8ff'::bytea IN bytea_blur(data)) > 0 AS output_has_thumbnail,
       position('XMP '::bytea IN data) > 0 AS input_has_xmp,
       position('XMP '::bytea IN bytea_blur(data)) > 0 AS output_has_xmp
FROM fixture WHERE name = 'lossy.webp';

-- An animation (two 67x45 frames) is blurred frame by frame into an animation: the same
-- canvas, an ANIM chunk (loop count, background) and an ANMF chunk per frame (test_accuracy's
-- WebpAnimation checks the frames, their times and the loop count). Its pixel limit counts
-- every frame: 2 x 67 x 45 = 6030. It cannot become one image of another format.
SELECT (bytea_image_info(bytea_blur(data))).*,
       position('ANIM'::bytea IN bytea_blur(data)) > 0 AS animated,
       position('ANMF'::bytea IN substr(bytea_blur(data), position('ANMF'::bytea IN bytea_blur(data)) + 4)) > 0
           AS second_frame
FROM fixture WHERE name = 'animated.webp';
SET bytea_blur.max_pixels = 6030;
SELECT length(bytea_blur(data)) > 0 AS within_limit FROM fixture WHERE name = 'animated.webp';
SET bytea_blur.max_pixels = 6029;
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'animated.webp'$$);
RESET bytea_blur.max_pixels;
SELECT expect_error($$SELECT bytea_blur(data, format => 'png') FROM fixture WHERE name = 'animated.webp'$$);

-- A truncated file gives 22P03 at every length (the message varies with where it ends); a file
-- that declares more pixels than bytea_blur.max_pixels 54000 before any pixel is decoded.
SELECT DISTINCT split_part(expect_error(format('SELECT bytea_blur(substr(data, 1, %s)) FROM fixture WHERE name = %L', n, name)), ':', 1) AS sqlstate
FROM fixture, generate_series(1, 300) AS n
WHERE name = 'rgba_lossy.webp' AND n < length(data)
ORDER BY 1;
SET bytea_blur.max_pixels = 1000;
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'lossless.webp'$$);
RESET bytea_blur.max_pixels;
