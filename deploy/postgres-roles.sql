-- Two roles for one gaoxin database (run once, as a superuser, connected to that database):
--   gaoxin_owner  owns the schema and its tables; only migrations connect as it;
--   gaoxin_app    what web, worker and beat connect as: reads and writes rows, owns nothing,
--                 so it can neither switch the ledger's append-only triggers off nor TRUNCATE.
-- psql variables: owner_password, app_password (psql -v owner_password=... -v app_password=...).
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE gaoxin_owner LOGIN PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gaoxin_owner') \gexec
SELECT format('CREATE ROLE gaoxin_app LOGIN PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gaoxin_app') \gexec
ALTER ROLE gaoxin_owner NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE gaoxin_app NOSUPERUSER NOCREATEDB NOCREATEROLE;

SELECT format('ALTER DATABASE %I OWNER TO gaoxin_owner', current_database()) \gexec
ALTER SCHEMA public OWNER TO gaoxin_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gaoxin_app;

-- Tables and sequences the owner creates from now on (every migration), and those it has.
ALTER DEFAULT PRIVILEGES FOR ROLE gaoxin_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gaoxin_app;
ALTER DEFAULT PRIVILEGES FOR ROLE gaoxin_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO gaoxin_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gaoxin_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gaoxin_app;
