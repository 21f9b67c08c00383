-- bytea_blur 1.1 to 1.2: nothing changes in an installed extension. Version 1.2 differs only in
-- what CREATE EXTENSION does under Citus (it never makes the image table a member there, and
-- makes none on a worker); see bytea_blur--1.2.sql.
\echo Use "ALTER EXTENSION bytea_blur UPDATE TO '1.2'" to load this file. \quit
