-- JPEG in, JPEG out: same size, same colour space (channels), blurred.
SELECT name, (bytea_image_info(bytea_blur(data))).*
FROM fixture WHERE name LIKE '%.jpg' ORDER BY name;

-- The defaults are sigma 5 and quality 75.
SELECT bytea_blur(data) = bytea_blur(data, 5.0, 75) AS defaults_are_5_and_75
FROM fixture WHERE name = 'rgb420.jpg';

-- Quality changes the encoded size, not the image.
SELECT length(bytea_blur(data, 2, 95)) > length(bytea_blur(data, 2, 20)) AS higher_quality_is_larger,
       (bytea_image_info(bytea_blur(data, 2, 1))).width AS width_at_quality_1,
       (bytea_image_info(bytea_blur(data, 2, 100))).width AS width_at_quality_100
FROM fixture WHERE name = 'rgb444.jpg';

-- sigma 0 and a sigma far larger than the image are both fine.
SELECT (bytea_image_info(bytea_blur(data, 0))).width AS sigma_0,
       (bytea_image_info(bytea_blur(data, 1000))).width AS sigma_1000,
       (bytea_image_info(bytea_blur(data, 0.01))).width AS sigma_tiny
FROM fixture WHERE name = 'rgb420.jpg';

-- The blurred JPEG keeps its ICC profile (APP2 "ICC_PROFILE") and its EXIF orientation, and
-- drops the EXIF thumbnail (an embedded JPEG: a second SOI marker).
SELECT position('ICC_PROFILE'::bytea IN data) > 0 AS input_has_icc,
       position('ICC_PROFILE'::bytea IN bytea_blur(data)) > 0 AS output_has_icc,
       position('Exif'::bytea IN bytea_blur(data)) > 0 AS output_has_exif,
       position('\xffd8ff'::bytea IN substr(data, 3)) > 0 AS input_has_thumbnail,
       position('\xffd8ff'::bytea IN substr(bytea_blur(data), 3)) > 0 AS output_has_thumbnail,
       position('bytea_blur test'::bytea IN bytea_blur(data)) > 0 AS output_has_other_exif_tags
FROM fixture WHERE name = 'rgb420.jpg';

-- Deterministic: the same input gives the same bytes.
SELECT bytea_blur(data, 3) = bytea_blur(data, 3) AS deterministic FROM fixture WHERE name = 'progressive.jpg';

-- bytea_blur.threads (default 2): a progressive JPEG large enough (progressive_large.jpg,
-- 640x480) has its scans decoded by two decoders on two threads; the result is the same bytes
-- as with one, at every decode scale, and a file whose last scan (the second decoder's) ends
-- early fails alike.
SHOW bytea_blur.threads;
CREATE TEMP TABLE on_two_threads AS
SELECT name, s, bytea_blur(data, s) AS blurred
FROM fixture, unnest(ARRAY[1, 3, 5, 40]) AS s
WHERE name IN ('progressive_large.jpg', 'progressive.jpg', 'rgb420.jpg');
CREATE TEMP TABLE corrupt AS
SELECT substr(data, 1, length(data) - 200) || '\xffd9'::bytea AS data
FROM fixture WHERE name = 'progressive_large.jpg';
SELECT expect_error($$SELECT bytea_blur(data) FROM corrupt$$) AS two_threads;
SET bytea_blur.threads = 1;
SELECT name, s, bytea_blur(data, s) = blurred AS same_on_one_thread
FROM fixture JOIN on_two_threads USING (name) ORDER BY name, s;
SELECT expect_error($$SELECT bytea_blur(data) FROM corrupt$$) AS one_thread;
RESET bytea_blur.threads;
SELECT expect_error($$SET bytea_blur.threads = 0$$) AS zero,
       expect_error($$SET bytea_blur.threads = 3$$) AS three;
