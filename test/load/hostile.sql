-- One hostile input: must fail with a documented SQLSTATE (try_blur re-raises anything else).
\set h random(1, 16)
SELECT try_blur(data) FROM hostile WHERE id = :h;
