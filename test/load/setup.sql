-- The load test's database: the tables, filled by run, and try_blur.
CREATE EXTENSION bytea_blur;
CREATE TABLE hostile (id serial PRIMARY KEY, data bytea NOT NULL);

-- Runs bytea_blur and returns the SQLSTATE of its error; an undocumented error is re-raised,
-- so that pgbench counts it as a failure.
CREATE FUNCTION try_blur(img bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bytea_blur(img);
    RETURN 'ok';
EXCEPTION
    WHEN invalid_binary_representation OR feature_not_supported OR program_limit_exceeded
         OR out_of_memory THEN
        RETURN SQLSTATE;
END
$$;
