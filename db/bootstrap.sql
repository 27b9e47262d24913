-- Creates Talktime's two database roles and its database. Run once per cluster as a superuser, with psql:
--
--   psql -v owner_password=... -v app_password=... -v database=talktime -f db/bootstrap.sql
--
-- talktime_owner owns the schema and is the role migrations run as.
-- talktime_app is the role the service connects as: it owns nothing and cannot bypass row level security,
-- so every tenant table's policies apply to it.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE talktime_owner LOGIN PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'talktime_owner') \gexec

SELECT format('CREATE ROLE talktime_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'talktime_app') \gexec

SELECT format('CREATE DATABASE %I OWNER talktime_owner', :'database')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec

-- The service's sessions compress the page images they write to the WAL (lz4 where the server has it, else pglz).
-- The billing engine changes many rows of many pages each round, and the first change of a page after a
-- checkpoint logs the whole page: uncompressed, such images were about two thirds of its WAL. Compressed, the
-- engine wrote a third of the WAL and charged 15 to 39 % more increments a second (bench/README, stop 19). It
-- costs a little CPU per image. A role setting, so it applies to every session of talktime_app whatever the
-- cluster's own setting; a cluster where this role may not set it keeps its own, with a notice.
DO $bootstrap$
BEGIN
    BEGIN
        ALTER ROLE talktime_app SET wal_compression = 'lz4';
    EXCEPTION WHEN invalid_parameter_value THEN
        ALTER ROLE talktime_app SET wal_compression = 'pglz';
    END;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'talktime_app keeps the cluster''s wal_compression: only a superuser may set it for the role';
END
$bootstrap$;
