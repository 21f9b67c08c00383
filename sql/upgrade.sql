-- Version 1.0 installed, images stored, then ALTER EXTENSION ... UPDATE to the current version
-- (through 1.1 to 1.5): the images and the view survive, the new objects exist, and the catalog
-- matches a fresh install of the current version.
DROP EXTENSION IF EXISTS bytea_blur;
DROP TABLE IF EXISTS image_process_imagefile;
SELECT name, version, installed FROM pg_available_extension_versions WHERE name = 'bytea_blur' ORDER BY version;

CREATE EXTENSION bytea_blur VERSION '1.0';
INSERT INTO image_process_imagefile (image, image_data)
SELECT name, data FROM fixture WHERE name IN ('rgb420.jpg', 'rgba8.png') ORDER BY name;
SELECT img_id, (bytea_image_info(img_binary)).format FROM applyblur ORDER BY img_id;
SELECT md5(string_agg(md5(image_data), ',' ORDER BY id)) AS images_before FROM image_process_imagefile \gset

ALTER EXTENSION bytea_blur UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur';
SELECT md5(string_agg(md5(image_data), ',' ORDER BY id)) = :'images_before' AS images_unchanged FROM image_process_imagefile;
SELECT img_id, (bytea_image_info(img_binary)).format, img_content_type FROM applyblur ORDER BY img_id;
SELECT proname, procost FROM pg_proc WHERE proname IN ('bytea_blur', 'bytea_image_info') ORDER BY 1;

-- The extension's functions and view as the catalog describes them (looked up by name each
-- time, so that it outlives DROP EXTENSION).
CREATE TEMP VIEW catalog_now AS
SELECT 'function ' || p.oid::regprocedure AS object, pg_get_functiondef(p.oid) AS definition,
       obj_description(p.oid, 'pg_proc') AS comment, p.proacl::text AS acl
FROM pg_proc p WHERE p.proname IN ('bytea_blur', 'bytea_image_info')
UNION ALL
SELECT 'view applyblur', pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class'), c.relacl::text
FROM pg_class c WHERE c.oid = to_regclass('applyblur');
CREATE TEMP TABLE upgraded AS SELECT * FROM catalog_now;
SELECT member FROM extension_members ORDER BY 1;

-- A fresh install of the current version (its own table this time).
DROP EXTENSION bytea_blur;
CREATE EXTENSION bytea_blur;
SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur';
SELECT member FROM extension_members ORDER BY 1;
CREATE TEMP TABLE fresh AS SELECT * FROM catalog_now;
SELECT count(*) AS objects_compared FROM fresh;
SELECT 'only after upgrade' AS side, * FROM (SELECT * FROM upgraded EXCEPT SELECT * FROM fresh) a
UNION ALL
SELECT 'only in fresh install', * FROM (SELECT * FROM fresh EXCEPT SELECT * FROM upgraded) b;
DROP EXTENSION bytea_blur;

-- 1.2 to 1.3 replaces bytea_blur(data, sigma, quality) with a four-argument function. What was
-- granted on the old is granted on the new; an object of the user's own that calls the old one
-- stops the update before anything changes, named in the error; without it the update runs,
-- and calls written for 1.2 give the same bytes after it.
CREATE ROLE regress_bb_grantee;
CREATE EXTENSION bytea_blur VERSION '1.2';
INSERT INTO image_process_imagefile (image, image_data)
SELECT name, data FROM fixture WHERE name IN ('rgb420.jpg', 'rgba8.png') ORDER BY name;
GRANT EXECUTE ON FUNCTION bytea_blur(bytea, double precision, integer) TO regress_bb_grantee WITH GRANT OPTION;
CREATE TABLE blurred_before AS SELECT id, bytea_blur(image_data, 2.5, 60) AS blurred FROM image_process_imagefile;
CREATE VIEW my_blurs AS SELECT id, bytea_blur(image_data, 2.0) AS blurred FROM image_process_imagefile;
SELECT expect_error($$ALTER EXTENSION bytea_blur UPDATE TO '1.3'$$);
SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur';
DROP VIEW my_blurs;
ALTER EXTENSION bytea_blur UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'bytea_blur';
SELECT p.oid::regprocedure AS function, p.proisstrict,
       has_function_privilege('regress_bb_grantee', p.oid, 'EXECUTE') AS grantee_may_blur,
       has_function_privilege('regress_bb_grantee', p.oid, 'EXECUTE WITH GRANT OPTION') AS grantee_may_grant
FROM pg_proc p WHERE p.proname LIKE 'bytea_blur%' ORDER BY 1;
SELECT b.id, bytea_blur(i.image_data, 2.5, 60) = b.blurred AS same_bytes
FROM blurred_before b JOIN image_process_imagefile i USING (id) ORDER BY b.id;
SELECT img_id, (bytea_image_info(img_binary)).format, img_content_type FROM applyblur ORDER BY img_id;
DROP TABLE blurred_before;
DROP EXTENSION bytea_blur; -- and the table it made
DROP ROLE regress_bb_grantee;

-- 1.3 to 1.4 (AVIF) changes only the functions' descriptions: the library reads AVIF under
-- either version.
CREATE EXTENSION bytea_blur VERSION '1.3';
SELECT (bytea_image_info(data)).format AS read_under_1_3 FROM fixture WHERE name = 'rgb8_420.avif';
ALTER EXTENSION bytea_blur UPDATE TO '1.4';
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') LIKE '%AVIF%' AS describes_avif
FROM pg_proc p WHERE p.proname IN ('bytea_blur', 'bytea_image_info') ORDER BY 1;
DROP EXTENSION bytea_blur;

-- 1.4 to 1.5 adds bytea_blur_regions: whoever was granted bytea_blur may run it too, with the
-- same grant option; others may not.
CREATE ROLE regress_bb_grantee;
CREATE ROLE regress_bb_other;
CREATE EXTENSION bytea_blur VERSION '1.4';
GRANT EXECUTE ON FUNCTION bytea_blur(bytea, double precision, integer, text) TO regress_bb_grantee WITH GRANT OPTION;
ALTER EXTENSION bytea_blur UPDATE TO '1.5';
SELECT r.rolname, has_function_privilege(r.rolname, 'bytea_blur_regions(bytea, box[], double precision, integer)', 'EXECUTE') AS may_redact,
       has_function_privilege(r.rolname, 'bytea_blur_regions(bytea, box[], double precision, integer)', 'EXECUTE WITH GRANT OPTION') AS may_grant
FROM pg_roles r WHERE r.rolname IN ('regress_bb_grantee', 'regress_bb_other') ORDER BY 1;
SELECT (bytea_image_info(bytea_blur_regions(data, ARRAY[box(point(0, 0), point(8, 8))]))).format AS redacted_under_1_5
FROM fixture WHERE name = 'rgb420.jpg';
DROP EXTENSION bytea_blur;
DROP ROLE regress_bb_grantee;
DROP ROLE regress_bb_other;
