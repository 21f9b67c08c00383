-- Every bad input is a clean SQL error with a specific SQLSTATE; NULL in gives NULL out.
SELECT bytea_blur(NULL) IS NULL AS null_data,
       bytea_blur(data, NULL) IS NULL AS null_sigma,
       bytea_blur(data, 5, NULL) IS NULL AS null_quality
FROM fixture WHERE name = 'pixel.png';

-- 22023: sigma and quality out of range.
SELECT expect_error(format($$SELECT bytea_blur(%L::bytea, %s)$$, data, s))
FROM fixture, unnest(ARRAY['-1', '''NaN''', '''Infinity''', '''-Infinity''', '1000.001', '1e300']) AS s
WHERE name = 'pixel.png';
SELECT expect_error(format($$SELECT bytea_blur(%L::bytea, 5, %s)$$, data, q))
FROM fixture, unnest(ARRAY[0, 101, -5]) AS q
WHERE name = 'pixel.jpg';

-- 22P03: empty, unrecognised, truncated and corrupt data.
SELECT expect_error($$SELECT bytea_blur(''::bytea)$$);
SELECT expect_error($$SELECT bytea_blur('just some text'::bytea)$$);
SELECT expect_error($$SELECT bytea_blur('\x89504e470d0a1a0a'::bytea)$$);
SELECT expect_error($$SELECT bytea_blur(substr(data, 1, length(data) / 2)) FROM fixture WHERE name = 'rgb420.jpg'$$);
SELECT expect_error($$SELECT bytea_blur(substr(data, 1, length(data) - 2)) FROM fixture WHERE name = 'progressive.jpg'$$);
SELECT expect_error($$SELECT bytea_blur(substr(data, 1, length(data) / 2)) FROM fixture WHERE name = 'rgb8.png'$$);
SELECT expect_error($$SELECT bytea_blur(substr(data, 1, length(data) - 12)) FROM fixture WHERE name = 'rgb8.png'$$);
-- a zeroed byte inside the compressed image data of a PNG
SELECT expect_error($$SELECT bytea_blur(overlay(data PLACING '\x00' FROM position('IDAT'::bytea IN data) + 20))
                      FROM fixture WHERE name = 'rgb8.png'$$);
-- a width or height of 0
SELECT expect_error($$SELECT bytea_blur(overlay(data PLACING '\x00000000' FROM 17)) FROM fixture WHERE name = 'rgb8.png'$$);
SELECT expect_error($$SELECT bytea_blur('\xffd8ffc0000b080000001001011100ffd9'::bytea)$$);
SELECT expect_error($$SELECT bytea_blur('\xffd8ffc0000b080010000001011100ffd9'::bytea)$$);

-- 0A000: valid images of a kind bytea_blur does not process.
SELECT expect_error($$SELECT bytea_blur('\xffd8ffc1000b0c0010001001011100ffd9'::bytea)$$); -- 12-bit
SELECT expect_error($$SELECT bytea_blur('\xffd8ffc3000b080010001001011100ffd9'::bytea)$$); -- lossless
SELECT expect_error($$SELECT bytea_blur('GIF89a\001\000\001\000\000\000\000'::bytea)$$);
SELECT expect_error($$SELECT bytea_blur('II*\000\010\000\000\000'::bytea)$$);

-- 54000: more pixels than bytea_blur.max_pixels, refused from the header.
SELECT expect_error($$SELECT bytea_blur(overlay(data PLACING '\x0000ea600000ea60' FROM 17)) FROM fixture WHERE name = 'rgb8.png'$$);
SELECT expect_error($$SELECT bytea_blur(overlay(data PLACING '\xfde8fde8' FROM position('\xffc0'::bytea IN data) + 5))
                      FROM fixture WHERE name = 'pixel.jpg'$$);
-- the limit is a superuser setting, and a lower limit applies at once
SHOW bytea_blur.max_pixels;
SET bytea_blur.max_pixels = 3000;
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'rgb420.jpg'$$);
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'rgb8.png'$$);
SET bytea_blur.max_pixels = 3015;
SELECT (bytea_image_info(bytea_blur(data))).width AS at_the_limit FROM fixture WHERE name = 'rgb8.png';
RESET bytea_blur.max_pixels;
SELECT expect_error($$SET bytea_blur.max_pixels = 0$$);
SELECT expect_error($$SET bytea_blur.no_such_setting = 1$$);

-- 57014: a statement timeout stops the blur (the blur checks for interrupts as it goes).
SET statement_timeout = '1ms';
SELECT length(bytea_blur(data, 50)) FROM fixture WHERE name = 'sample.jpg';
RESET statement_timeout;
SELECT 'the session is still usable' AS after_timeout;
