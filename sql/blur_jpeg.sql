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
