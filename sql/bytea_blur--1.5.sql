-- bytea_blur 1.5: the blur function, the redaction function, the header reader, the image table
-- and the view.
\echo Use "CREATE EXTENSION bytea_blur" to load this file. \quit

-- Not STRICT, so that a null format can mean the input's own: a null data, sigma or quality
-- still gives null.
CREATE FUNCTION @extschema@.bytea_blur(data bytea, sigma double precision DEFAULT 5.0, quality integer DEFAULT 75,
                                       format text DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bytea_blur'
LANGUAGE C IMMUTABLE PARALLEL SAFE COST 10000;

COMMENT ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) IS
'Gaussian blur of a JPEG, PNG, WebP or AVIF image. sigma is the standard deviation in pixels (0 to 1000, kernel cut at 4 sigma, reflected borders); quality is the JPEG, lossy WebP and AVIF quality (1 to 100), ignored for PNG and lossless WebP; format is the output format (jpeg, png, webp or avif), NULL for the input''s own.';

-- Redaction (1.5): the blur inside boxes of the displayed image, every other pixel as it was.
CREATE FUNCTION @extschema@.bytea_blur_regions(data bytea, regions box[], sigma double precision DEFAULT 5.0,
                                               quality integer DEFAULT 75)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bytea_blur_regions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;

COMMENT ON FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) IS
'Gaussian blur (as bytea_blur''s) of a JPEG, PNG, WebP or AVIF image inside the given boxes, in pixels of the image as displayed (EXIF orientation applied; a pixel is inside when its centre is), the rest of the image as it was: a JPEG''s blocks that no box touches keep their coefficients bit for bit, a PNG''s or lossless WebP''s pixels outside the boxes are identical. At most 1000 boxes; quality is the lossy WebP and AVIF quality (a JPEG keeps its own tables).';

CREATE FUNCTION @extschema@.bytea_image_info(
    data bytea,
    OUT format text,
    OUT mime_type text,
    OUT width integer,
    OUT height integer,
    OUT channels integer,
    OUT bit_depth integer)
RETURNS record
AS 'MODULE_PATHNAME', 'bytea_image_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10;

COMMENT ON FUNCTION @extschema@.bytea_image_info(bytea) IS
'Format, MIME type, width, height, channels and bit depth of a JPEG, PNG, WebP or AVIF image, read from its headers without decoding pixels.';

-- The table of the Django model image_process.ImageFile, and the view applyblur over it.
-- A table that Django's migrations already made is adopted as it is: never altered and never
-- a member of the extension, so DROP EXTENSION leaves it and its images. A missing one is
-- created here as a member, and pg_dump keeps its rows and its sequence.
-- In a Citus cluster, the table is the user's to distribute, and every node must agree on who
-- owns it: Citus makes a distributed table's shell on each worker itself, unless the table
-- belongs to an extension, in which case it expects the extension to have made it on every
-- worker. A worker cannot know which of the two the coordinator's table is, so under Citus the
-- extension never makes the table a member: the coordinator creates a missing one as a plain
-- table, and a worker (a node that is not the coordinator, or a command Citus sends from
-- another node) creates none. The view is made where the table exists; on Citus, query it
-- through the coordinator.
DO $do$
DECLARE
    citus boolean := EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus');
    citus_worker boolean := false;
BEGIN
    IF citus THEN
        EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO citus_worker;
        citus_worker := citus_worker
            OR pg_catalog.current_setting('application_name') LIKE 'citus\_internal gpid=%';
    END IF;
    IF pg_catalog.to_regclass('@extschema@.image_process_imagefile') IS NULL AND NOT citus_worker THEN
        CREATE TABLE @extschema@.image_process_imagefile (
            id serial PRIMARY KEY,
            image varchar(100) NOT NULL DEFAULT '',
            image_data bytea
        );
        ALTER TABLE @extschema@.image_process_imagefile OWNER TO @extowner@;
        IF citus THEN
            ALTER EXTENSION bytea_blur DROP SEQUENCE @extschema@.image_process_imagefile_id_seq;
            ALTER EXTENSION bytea_blur DROP TABLE @extschema@.image_process_imagefile;
            COMMENT ON TABLE @extschema@.image_process_imagefile IS
                'Uploaded images (the Django model image_process.ImageFile); created by the bytea_blur extension, not a member of it (Citus).';
        ELSE
            PERFORM pg_catalog.pg_extension_config_dump('@extschema@.image_process_imagefile', '');
            PERFORM pg_catalog.pg_extension_config_dump('@extschema@.image_process_imagefile_id_seq', '');
            COMMENT ON TABLE @extschema@.image_process_imagefile IS
                'Uploaded images (the Django model image_process.ImageFile); created by the bytea_blur extension.';
        END IF;
    END IF;
    IF pg_catalog.to_regclass('@extschema@.image_process_imagefile') IS NOT NULL THEN
        CREATE VIEW @extschema@.applyblur AS
            SELECT image_process_imagefile.id AS img_id,
                   @extschema@.bytea_blur(image_process_imagefile.image_data) AS img_binary,
                   (@extschema@.bytea_image_info(image_process_imagefile.image_data)).mime_type AS img_content_type
            FROM @extschema@.image_process_imagefile;
        COMMENT ON VIEW @extschema@.applyblur IS
            'Blurred copies of image_process_imagefile (sigma 5, JPEG quality 75), the table of the Django model BlurredImage, with their content type. Filtering on img_id blurs only the matching rows.';
        ALTER VIEW @extschema@.applyblur OWNER TO @extowner@;
        REVOKE ALL ON @extschema@.applyblur FROM PUBLIC;
    END IF;
END
$do$;

-- Owned by, and usable only by, the role that created the extension.
ALTER FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) OWNER TO @extowner@;
ALTER FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) OWNER TO @extowner@;
ALTER FUNCTION @extschema@.bytea_image_info(bytea) OWNER TO @extowner@;
REVOKE ALL ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.bytea_image_info(bytea) FROM PUBLIC;
