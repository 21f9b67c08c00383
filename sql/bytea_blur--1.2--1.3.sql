-- bytea_blur 1.2 to 1.3: bytea_blur gains a fourth argument, format (the output format, NULL
-- for the input's own), and is no longer STRICT (a null format must reach it). A function's
-- arguments cannot change in place, so the three-argument function is replaced: renamed,
-- the new one created, whatever was granted on the old granted on the new, the applyblur view
-- pointed at the new, the old dropped. Calls keep their meaning: every call of 1.2 is a call
-- of 1.3 with format NULL.
\echo Use "ALTER EXTENSION bytea_blur UPDATE TO '1.3'" to load this file. \quit

-- Objects of the user's own that call the old function (a view, a generated column, an index
-- expression) would block its drop, with an error naming a function the user never wrote:
-- they are named here instead, before anything changes.
DO $check$
DECLARE
    users text;
BEGIN
    SELECT string_agg(pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
    INTO users
    FROM pg_catalog.pg_depend d
    WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND d.refobjid = '@extschema@.bytea_blur(bytea, double precision, integer)'::pg_catalog.regprocedure
      AND d.deptype <> 'e'
      AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
               AND EXISTS (SELECT FROM pg_catalog.pg_rewrite r
                           WHERE r.oid = d.objid AND r.ev_class = pg_catalog.to_regclass('@extschema@.applyblur')));
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'bytea_blur 1.3 replaces bytea_blur(bytea, double precision, integer), which these objects use: %', users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Drop them, update the extension, then create them again (their calls keep their meaning); or stay on 1.2.';
    END IF;
END
$check$;

ALTER FUNCTION @extschema@.bytea_blur(bytea, double precision, integer) RENAME TO bytea_blur_1_2_replaced;

-- Not STRICT, so that a null format can mean the input's own: a null data, sigma or quality
-- still gives null.
CREATE FUNCTION @extschema@.bytea_blur(data bytea, sigma double precision DEFAULT 5.0, quality integer DEFAULT 75,
                                       format text DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bytea_blur'
LANGUAGE C IMMUTABLE PARALLEL SAFE COST 10000;

COMMENT ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) IS
'Gaussian blur of a JPEG, PNG or WebP image. sigma is the standard deviation in pixels (0 to 1000, kernel cut at 4 sigma, reflected borders); quality is the JPEG and lossy WebP quality (1 to 100), ignored for PNG; format is the output format (jpeg, png or webp), NULL for the input''s own.';

COMMENT ON FUNCTION @extschema@.bytea_image_info(bytea) IS
'Format, MIME type, width, height, channels and bit depth of a JPEG, PNG or WebP image, read from its headers without decoding pixels.';

ALTER FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) OWNER TO @extowner@;
REVOKE ALL ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) FROM PUBLIC;

DO $replace$
DECLARE
    grant_ record;
BEGIN
    -- What the owner granted on the old function (to the Django role, say), on the new.
    FOR grant_ IN
        SELECT a.grantee, a.is_grantable
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid = '@extschema@.bytea_blur_1_2_replaced(bytea, double precision, integer)'::pg_catalog.regprocedure
          AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) TO %s%s',
                                  CASE WHEN grant_.grantee = 0 THEN 'PUBLIC'
                                       ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grant_.grantee)) END,
                                  CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    -- The view as 1.3 makes it (CREATE OR REPLACE keeps its owner, privileges and comment).
    IF pg_catalog.to_regclass('@extschema@.applyblur') IS NOT NULL THEN
        CREATE OR REPLACE VIEW @extschema@.applyblur AS
            SELECT image_process_imagefile.id AS img_id,
                   @extschema@.bytea_blur(image_process_imagefile.image_data) AS img_binary,
                   (@extschema@.bytea_image_info(image_process_imagefile.image_data)).mime_type AS img_content_type
            FROM @extschema@.image_process_imagefile;
    END IF;
END
$replace$;

DROP FUNCTION @extschema@.bytea_blur_1_2_replaced(bytea, double precision, integer);
