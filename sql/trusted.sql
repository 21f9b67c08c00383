-- The extension is trusted: a database owner that is not a superuser (the role a Django
-- application connects as) installs it. Its objects belong to that role, and nobody else
-- gets any privilege on them.
CREATE ROLE regress_bb_owner LOGIN;
CREATE ROLE regress_bb_other LOGIN;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO regress_bb_owner', current_database()); END $$;
GRANT SELECT ON fixture TO regress_bb_owner, regress_bb_other;

SET ROLE regress_bb_owner;
SELECT rolsuper AS installer_is_superuser FROM pg_roles WHERE rolname = current_user;
CREATE EXTENSION bytea_blur;
INSERT INTO image_process_imagefile (image, image_data) SELECT name, data FROM fixture WHERE name = 'rgb422.jpg';
SELECT img_id, (bytea_image_info(img_binary)).* FROM applyblur;
SELECT expect_error($$SET bytea_blur.max_pixels = 10$$);
RESET ROLE;

SELECT p.oid::regprocedure AS function, pg_get_userbyid(p.proowner) AS owner, p.proacl
FROM pg_proc p WHERE p.proname IN ('bytea_blur', 'bytea_image_info') ORDER BY 1;
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner, privileges(c.relacl) AS acl
FROM pg_class c WHERE c.relname IN ('applyblur', 'image_process_imagefile', 'image_process_imagefile_id_seq')
ORDER BY 1;
SELECT has_function_privilege('regress_bb_other', 'bytea_blur(bytea, double precision, integer, text)', 'EXECUTE') AS other_may_blur,
       has_function_privilege('regress_bb_other', 'bytea_image_info(bytea)', 'EXECUTE') AS other_may_read_info,
       has_table_privilege('regress_bb_other', 'applyblur', 'SELECT') AS other_may_read_view,
       has_table_privilege('regress_bb_other', 'image_process_imagefile', 'SELECT') AS other_may_read_table;
SET ROLE regress_bb_other;
SELECT expect_error($$SELECT * FROM applyblur$$);
SELECT expect_error($$SELECT bytea_blur(data) FROM fixture WHERE name = 'pixel.png'$$);
RESET ROLE;

SET ROLE regress_bb_owner;
DROP EXTENSION bytea_blur;
RESET ROLE;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO CURRENT_USER', current_database()); END $$;
REVOKE ALL ON fixture FROM regress_bb_owner, regress_bb_other;
DROP ROLE regress_bb_owner;
DROP ROLE regress_bb_other;
