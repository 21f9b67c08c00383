-- Loads the test fixtures (test/fixtures, written by generate.py) into a table that the
-- later tests read, and installs the extension. psql reads the files, so the server needs no
-- file access.
CREATE EXTENSION bytea_blur;
CREATE TABLE fixture (name text PRIMARY KEY, data bytea NOT NULL);
\set f `base64 -w0 test/fixtures/clap.avif`
INSERT INTO fixture VALUES ('clap.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/cmyk.jpg`
INSERT INTO fixture VALUES ('cmyk.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray.jpg`
INSERT INTO fixture VALUES ('gray.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray1.png`
INSERT INTO fixture VALUES ('gray1.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray16.png`
INSERT INTO fixture VALUES ('gray16.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray8.png`
INSERT INTO fixture VALUES ('gray8.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray_trns.png`
INSERT INTO fixture VALUES ('gray_trns.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/graya8.png`
INSERT INTO fixture VALUES ('graya8.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/iccp.png`
INSERT INTO fixture VALUES ('iccp.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/lossless.webp`
INSERT INTO fixture VALUES ('lossless.webp', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/lossy.webp`
INSERT INTO fixture VALUES ('lossy.webp', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgba_lossless.webp`
INSERT INTO fixture VALUES ('rgba_lossless.webp', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgba_lossy.webp`
INSERT INTO fixture VALUES ('rgba_lossy.webp', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/animated.webp`
INSERT INTO fixture VALUES ('animated.webp', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/gray12.avif`
INSERT INTO fixture VALUES ('gray12.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb10_444.avif`
INSERT INTO fixture VALUES ('rgb10_444.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb8_420.avif`
INSERT INTO fixture VALUES ('rgb8_420.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgba8_422.avif`
INSERT INTO fixture VALUES ('rgba8_422.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/sequence.avif`
INSERT INTO fixture VALUES ('sequence.avif', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/interlaced.png`
INSERT INTO fixture VALUES ('interlaced.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/meta.png`
INSERT INTO fixture VALUES ('meta.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/palette.png`
INSERT INTO fixture VALUES ('palette.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/palette_trns.png`
INSERT INTO fixture VALUES ('palette_trns.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/pixel.jpg`
INSERT INTO fixture VALUES ('pixel.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/pixel.png`
INSERT INTO fixture VALUES ('pixel.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/progressive.jpg`
INSERT INTO fixture VALUES ('progressive.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/progressive_large.jpg`
INSERT INTO fixture VALUES ('progressive_large.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb16.png`
INSERT INTO fixture VALUES ('rgb16.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb420.jpg`
INSERT INTO fixture VALUES ('rgb420.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb422.jpg`
INSERT INTO fixture VALUES ('rgb422.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb444.jpg`
INSERT INTO fixture VALUES ('rgb444.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgb8.png`
INSERT INTO fixture VALUES ('rgb8.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgba16.png`
INSERT INTO fixture VALUES ('rgba16.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/rgba8.png`
INSERT INTO fixture VALUES ('rgba8.png', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/sample.jpg`
INSERT INTO fixture VALUES ('sample.jpg', decode(:'f', 'base64'));
\set f `base64 -w0 test/fixtures/ycck.jpg`
INSERT INTO fixture VALUES ('ycck.jpg', decode(:'f', 'base64'));
SELECT count(*) AS fixtures FROM fixture;
-- Reports the SQLSTATE, message and detail of the error a statement raises.
CREATE FUNCTION expect_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || msg || coalesce(' / ' || nullif(detail, ''), '');
END
$$;

-- The extension's members, as \dx+ lists them, less the row types of its table and view and
-- their array types: PostgreSQL 18 records those as members too, earlier versions do not.
CREATE VIEW extension_members AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS member
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bytea_blur')
  AND NOT (d.classid = 'pg_type'::regclass AND EXISTS (
      SELECT 1 FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem
      WHERE t.oid = d.objid AND (t.typrelid <> 0 OR e.typrelid <> 0)));

-- A table's privileges per grantee, without MAINTAIN (a privilege PostgreSQL 17 added, which
-- every owner holds there).
CREATE FUNCTION privileges(acl aclitem[]) RETURNS text LANGUAGE sql STABLE AS $$
SELECT string_agg(grantee || '=' || privileges || '/' || grantor, ' ' ORDER BY grantee)
FROM (SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
             pg_get_userbyid(a.grantor) AS grantor,
             string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) AS privileges
      FROM aclexplode(acl) a WHERE a.privilege_type <> 'MAINTAIN'
      GROUP BY 1, 2) p
$$;
