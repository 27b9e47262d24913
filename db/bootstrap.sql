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
