-- bytea_blur 1.3 to 1.4: AVIF. The library reads and writes it; the functions' descriptions
-- say so. Nothing else changes.
\echo Use "ALTER EXTENSION bytea_blur UPDATE TO '1.4'" to load this file. \quit

COMMENT ON FUNCTION @extschema@.bytea_blur(bytea, double precision, integer, text) IS
'Gaussian blur of a JPEG, PNG, WebP or AVIF image. sigma is the standard deviation in pixels (0 to 1000, kernel cut at 4 sigma, reflected borders); quality is the JPEG, lossy WebP and AVIF quality (1 to 100), ignored for PNG and lossless WebP; format is the output format (jpeg, png, webp or avif), NULL for the input''s own.';

COMMENT ON FUNCTION @extschema@.bytea_image_info(bytea) IS
'Format, MIME type, width, height, channels and bit depth of a JPEG, PNG, WebP or AVIF image, read from its headers without decoding pixels.';
