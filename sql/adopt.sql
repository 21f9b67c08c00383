-- DROP EXTENSION drops the image table when the extension created it.
DROP EXTENSION bytea_blur;
SELECT to_regclass('image_process_imagefile') IS NULL AS table_dropped_with_extension;

-- A table Django's migrations made first (the DDL of Django 3.2 for image_process.ImageFile)
-- is adopted: used as it is, never altered, never a member.
CREATE TABLE image_process_imagefile (
    id serial NOT NULL PRIMARY KEY,
    image varchar(100) NOT NULL,
    image_data bytea NULL
);
INSERT INTO image_process_imagefile (image, image_data)
SELECT name, data FROM fixture WHERE name IN ('gray.jpg', 'palette_trns.png') ORDER BY name;
CREATE EXTENSION bytea_blur;
SELECT count(*) AS membership FROM pg_depend
WHERE classid = 'pg_class'::regclass AND objid = 'image_process_imagefile'::regclass AND deptype = 'e';
SELECT extconfig IS NULL AS nothing_registered_for_dump FROM pg_extension WHERE extname = 'bytea_blur';
SELECT column_name, data_type, column_default IS NOT NULL AS has_default
FROM information_schema.columns WHERE table_name = 'image_process_imagefile' ORDER BY ordinal_position;
SELECT img_id, (bytea_image_info(img_binary)).format FROM applyblur ORDER BY img_id;

-- DROP EXTENSION leaves an adopted table and its images.
DROP EXTENSION bytea_blur;
SELECT count(image_data) AS images_kept FROM image_process_imagefile;
CREATE EXTENSION bytea_blur;
SELECT count(*) AS blurred FROM applyblur WHERE img_binary IS NOT NULL;
DROP EXTENSION bytea_blur;
DROP TABLE image_process_imagefile;
