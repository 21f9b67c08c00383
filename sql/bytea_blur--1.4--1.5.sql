-- bytea_blur 1.4 to 1.5: redaction, bytea_blur_regions. Whoever may run bytea_blur may run it.
\echo Use "ALTER EXTENSION bytea_blur UPDATE TO '1.5'" to load this file. \quit

-- Redaction (1.5): the blur inside boxes of the displayed image, every other pixel as it was.
CREATE FUNCTION @extschema@.bytea_blur_regions(data bytea, regions box[], sigma double precision DEFAULT 5.0,
                                               quality integer DEFAULT 75)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bytea_blur_regions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;

COMMENT ON FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) IS
'Gaussian blur (as bytea_blur''s) of a JPEG, PNG, WebP or AVIF image inside the given boxes, in pixels of the image as displayed (EXIF orientation applied; a pixel is inside when its centre is), the rest of the image as it was: a JPEG''s blocks that no box touches keep their coefficients bit for bit, a PNG''s or lossless WebP''s pixels outside the boxes are identical. At most 1000 boxes; quality is the lossy WebP and AVIF quality (a JPEG keeps its own tables).';

ALTER FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) OWNER TO @extowner@;
REVOKE ALL ON FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) FROM PUBLIC;

-- bytea_blur's grants, copied (with their grant option).
DO $do$
DECLARE
    grant_ record;
BEGIN
    FOR grant_ IN
        SELECT a.grantee, a.is_grantable
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid = '@extschema@.bytea_blur(bytea, double precision, integer, text)'::pg_catalog.regprocedure
          AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.bytea_blur_regions(bytea, box[], double precision, integer) TO %s%s',
                                  CASE WHEN grant_.grantee = 0 THEN 'PUBLIC'
                                       ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grant_.grantee)) END,
                                  CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$do$;
