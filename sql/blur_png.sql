-- PNG in, PNG out: same size; palettes and 1-bit grey become 8-bit, tRNS becomes alpha,
-- 16-bit stays 16-bit, interlaced input is read.
SELECT name, (bytea_image_info(bytea_blur(data))).*
FROM fixture WHERE name LIKE '%.png' ORDER BY name;

-- quality is ignored for PNG: any valid value gives the same bytes.
SELECT bytea_blur(data, 2, 10) = bytea_blur(data, 2, 90) AS quality_ignored
FROM fixture WHERE name = 'rgb8.png';

-- sigma 0 leaves the pixels as they are: blurring the result again at sigma 0 is a fixed point.
SELECT bytea_blur(bytea_blur(data, 0), 0) = bytea_blur(data, 0) AS sigma_0_is_identity
FROM fixture WHERE name = 'rgba16.png';

-- Display metadata is kept (gAMA, cHRM, sRGB, pHYs, iCCP); text chunks are dropped.
SELECT position('gAMA'::bytea IN bytea_blur(data)) > 0 AS has_gama,
       position('cHRM'::bytea IN bytea_blur(data)) > 0 AS has_chrm,
       position('sRGB'::bytea IN bytea_blur(data)) > 0 AS has_srgb,
       position('pHYs'::bytea IN bytea_blur(data)) > 0 AS has_phys,
       position('tEXt'::bytea IN data) > 0 AS input_has_text,
       position('tEXt'::bytea IN bytea_blur(data)) > 0 AS output_has_text
FROM fixture WHERE name = 'meta.png';
SELECT position('iCCP'::bytea IN bytea_blur(data)) > 0 AS has_iccp FROM fixture WHERE name = 'iccp.png';
