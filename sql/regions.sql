-- bytea_blur_regions (1.5): the blur inside boxes of the image as displayed, the rest as it was.

-- Every fixture redacted in one box: the format, size, channels and depth that come out, from
-- the headers. A JPEG comes back as it was (its coefficients, sampling and tables kept), the
-- other formats as their own-format blur writes them (a palette or 1-bit PNG as 8-bit RGB or
-- grey, as bytea_blur writes it).
SELECT f.name, (bytea_image_info(bytea_blur_regions(f.data, ARRAY[box(point(5, 5), point(30, 20))]))).*
FROM fixture f
WHERE f.name NOT IN ('sequence.avif')
ORDER BY f.name;

-- A box over the whole image is the whole image's blur: for the lossless formats, the same
-- file as bytea_blur writes. Corners beyond the image are clipped.
SELECT f.name, bytea_blur_regions(f.data, ARRAY[box(point(-10, -10), point(1e6, 1e6))], 3) = bytea_blur(f.data, 3)
           AS whole_box_is_bytea_blur
FROM fixture f
WHERE f.name ~ '\.png$' OR f.name IN ('lossless.webp', 'rgba_lossless.webp')
ORDER BY f.name;

-- No box blurs nothing: a PNG comes back as bytea_blur at sigma 0 writes it; a JPEG's
-- coefficients are copied, so redacting it again changes no byte; so are boxes that miss the
-- image or have no area.
SELECT bytea_blur_regions(data, '{}') = bytea_blur(data, 0) AS no_box_png,
       bytea_blur_regions(data, ARRAY[box(point(100, 100), point(200, 200)), box(point(3, 3), point(3, 9))])
           = bytea_blur(data, 0) AS boxes_that_miss_png
FROM fixture WHERE name = 'rgb8.png';
SELECT bytea_blur_regions(r, '{}') = r AS no_box_is_stable,
       bytea_blur_regions(r, ARRAY[box(point(0, 0), point(16, 16))])
           = bytea_blur_regions(bytea_blur_regions(r, ARRAY[box(point(0, 0), point(16, 16))]), '{}') AS redaction_is_stable,
       bytea_blur_regions(r, ARRAY[box(point(0, 0), point(16, 16))]) <> r AS the_box_changed
FROM (SELECT bytea_blur_regions(data, '{}') AS r FROM fixture WHERE name = 'sample.jpg') s;

-- Overlapping boxes, a box given corner first or last, a two-dimensional array: the boxes are
-- what counts, in any order and any shape of array.
SELECT bytea_blur_regions(data, ARRAY[box(point(5, 5), point(30, 20)), box(point(20, 10), point(40, 30))])
           = bytea_blur_regions(data, ARRAY[box(point(40, 30), point(20, 10)), box(point(30, 20), point(5, 5))]) AS any_order,
       bytea_blur_regions(data, ARRAY[[box(point(5, 5), point(30, 20)), box(point(20, 10), point(40, 30))]])
           = bytea_blur_regions(data, ARRAY[box(point(5, 5), point(30, 20)), box(point(20, 10), point(40, 30))]) AS any_shape
FROM fixture WHERE name = 'rgb444.jpg';

-- Named arguments, and the defaults: sigma 5, quality 75 (for lossy WebP and AVIF).
SELECT bytea_blur_regions(data, ARRAY[box(point(5, 5), point(30, 20))])
           = bytea_blur_regions(data => data, regions => ARRAY[box(point(5, 5), point(30, 20))], sigma => 5, quality => 75)
           AS defaults
FROM fixture WHERE name = 'lossy.webp';

-- NULL in gives NULL out; a null box in the array is an error (22004).
SELECT bytea_blur_regions(NULL, '{}') IS NULL AS null_data,
       bytea_blur_regions(data, NULL) IS NULL AS null_regions,
       bytea_blur_regions(data, '{}', NULL) IS NULL AS null_sigma,
       bytea_blur_regions(data, '{}', 5, NULL) IS NULL AS null_quality
FROM fixture WHERE name = 'pixel.png';
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, ARRAY[box(point(0, 0), point(1, 1)), NULL])$$, data))
FROM fixture WHERE name = 'pixel.png';

-- 22023: NaN, infinite or absurd corners, sigma and quality out of range; 54000: more than
-- 1000 boxes, or an image over bytea_blur.max_pixels; 22P03: not an image; 0A000: what the
-- blur cannot take.
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, ARRAY[%s])$$, data, b))
FROM fixture, unnest(ARRAY['box(point(''NaN'', 0), point(1, 1))', 'box(point(0, 0), point(''Infinity'', 1))',
                           'box(point(0, ''-Infinity''), point(1, 1))', 'box(point(0, 0), point(1, 2e9))']) AS b
WHERE name = 'pixel.png';
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, '{}', %s)$$, data, s))
FROM fixture, unnest(ARRAY['-1', '1000.5', '''NaN''']) AS s
WHERE name = 'pixel.png';
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, '{}', 5, %s)$$, data, q))
FROM fixture, unnest(ARRAY['0', '101']) AS q
WHERE name = 'pixel.png';
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, array_fill(box(point(0, 0), point(1, 1)), ARRAY[%s]))$$,
                           data, n))
FROM fixture, unnest(ARRAY[1000, 1001]) AS n
WHERE name = 'pixel.png';
SELECT expect_error($$SELECT bytea_blur_regions('just some text'::bytea, '{}')$$);
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, '{}')$$, substr(data, 1, length(data) / 2)))
FROM fixture WHERE name = 'rgb420.jpg';
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, '{}')$$, data))
FROM fixture WHERE name = 'sequence.avif';
SET bytea_blur.max_pixels = 100;
SELECT expect_error(format($$SELECT bytea_blur_regions(%L::bytea, '{}')$$, data))
FROM fixture WHERE name = 'rgb420.jpg';
RESET bytea_blur.max_pixels;
