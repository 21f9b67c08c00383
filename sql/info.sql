-- bytea_image_info reads format, size, channels and depth from the headers alone.
SELECT name, (bytea_image_info(data)).* FROM fixture ORDER BY name;

-- NULL in, NULL out (the function is STRICT).
SELECT bytea_image_info(NULL) IS NULL AS is_null;
SELECT (bytea_image_info(NULL)).format IS NULL AS format_is_null;

-- Headers only: a PNG whose pixel data is cut off still has readable headers.
SELECT (bytea_image_info(substr(data, 1, 60))).* FROM fixture WHERE name = 'rgb8.png';

-- Bad input is a clean error with a specific SQLSTATE.
SELECT expect_error($$SELECT bytea_image_info(''::bytea)$$);
SELECT expect_error($$SELECT bytea_image_info('\x00'::bytea)$$);
SELECT expect_error($$SELECT bytea_image_info('hello world, not an image'::bytea)$$);
SELECT expect_error($$SELECT bytea_image_info('\xffd8ff'::bytea)$$);
SELECT expect_error($$SELECT bytea_image_info(substr(data, 1, 20)) FROM fixture WHERE name = 'rgb8.png'$$);
SELECT expect_error($$SELECT bytea_image_info('GIF89a\001\000\001\000'::bytea)$$);
SELECT expect_error($$SELECT bytea_image_info('RIFF\000\000\000\000WEBPVP8 '::bytea)$$);
