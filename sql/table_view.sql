-- With no image table beforehand, the extension creates image_process_imagefile as a member
-- and registers it and its sequence for pg_dump.
SELECT member FROM extension_members ORDER BY 1;
SELECT extconfig::regclass[] AS dumped_with_data FROM pg_extension WHERE extname = 'bytea_blur';
\d image_process_imagefile
\d applyblur
-- PostgreSQL 18 no longer qualifies the columns of a one-table view; the definition is shown
-- unqualified on every version.
SELECT replace(pg_get_viewdef('applyblur'::regclass), 'image_process_imagefile.', '') AS view_definition;

INSERT INTO image_process_imagefile (image, image_data)
SELECT name, data FROM fixture WHERE name IN ('gray16.png', 'pixel.jpg', 'rgb420.jpg', 'rgba8.png') ORDER BY name;
INSERT INTO image_process_imagefile (image, image_data) VALUES ('empty.jpg', NULL), ('notes.jpg', 'not an image');
SELECT id, image FROM image_process_imagefile ORDER BY id;

-- The view blurs each image with the defaults (sigma 5, quality 75); NULL stays NULL.
SELECT v.img_id, (bytea_image_info(v.img_binary)).*, v.img_binary = bytea_blur(i.image_data, 5, 75) AS same_as_function
FROM applyblur v JOIN image_process_imagefile i ON i.id = v.img_id
WHERE v.img_id <= 5 ORDER BY v.img_id;

-- WHERE img_id = N blurs that one row only, as Django's BlurredImage.objects.get(pk=N) needs.
-- pg_stat_xact_user_functions counts this backend's calls not yet reported, so each check
-- takes the difference around one query.
SET track_functions = 'all';
CREATE FUNCTION blur_calls() RETURNS bigint LANGUAGE sql AS
$$SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'bytea_blur'$$;
SELECT blur_calls() AS before \gset
SELECT img_id, length(img_binary) > 0 AS blurred FROM applyblur WHERE img_id = 3;
SELECT blur_calls() - :before AS bytea_blur_calls;
SELECT blur_calls() AS before \gset
SELECT img_id FROM applyblur WHERE img_id IN (1, 2) ORDER BY img_id;
SELECT blur_calls() - :before AS calls_when_column_not_selected;
SELECT blur_calls() AS before \gset
SELECT count(*) FROM applyblur;
SELECT blur_calls() - :before AS calls_for_count;
SELECT blur_calls() AS before \gset
SELECT img_id, (bytea_image_info(img_binary)).width FROM applyblur WHERE img_id BETWEEN 2 AND 3 ORDER BY img_id;
SELECT blur_calls() - :before AS calls_for_two_rows;
DROP FUNCTION blur_calls();
RESET track_functions;

-- A row that is not an image fails alone: the other rows still read.
SELECT expect_error($$SELECT img_binary FROM applyblur WHERE img_id = 6$$);
SELECT count(img_binary) AS readable FROM applyblur WHERE img_id <> 6;
