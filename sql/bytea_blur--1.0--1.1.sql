-- bytea_blur 1.0 to 1.1: planner costs, and the view's content type column.
\echo Use "ALTER EXTENSION bytea_blur UPDATE TO '1.1'" to load this file. \quit

ALTER FUNCTION @extschema@.bytea_blur(bytea, double precision, integer) COST 10000;
ALTER FUNCTION @extschema@.bytea_image_info(bytea) COST 10;

-- Columns may only be added at the end: img_id and img_binary stay first, as Django reads them.
CREATE OR REPLACE VIEW @extschema@.applyblur AS
    SELECT image_process_imagefile.id AS img_id,
           @extschema@.bytea_blur(image_process_imagefile.image_data) AS img_binary,
           (@extschema@.bytea_image_info(image_process_imagefile.image_data)).mime_type AS img_content_type
    FROM @extschema@.image_process_imagefile;

COMMENT ON VIEW @extschema@.applyblur IS
'Blurred copies of image_process_imagefile (sigma 5, JPEG quality 75), the table of the Django model BlurredImage, with their content type. Filtering on img_id blurs only the matching rows.';
