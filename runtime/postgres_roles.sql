-- The database roles of the platform's services, applied by the database-roles setup Job as
-- the RDS master user (psql, from environment variables; idempotent: it runs again whenever it
-- changes). The master user stays for administration; the services log in as their own roles,
-- whose passwords Secrets Manager generated and RDS's rotation of the master secret leaves alone.
--
--   APP_USER / APP_PASSWORD                the application (owns its schema objects)
--   MONITORING_USER / MONITORING_PASSWORD  postgres_exporter (pg_monitor, reads statistics only)
--   PGDATABASE                             the application database
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\getenv app_user APP_USER
\getenv app_password APP_PASSWORD
\getenv monitoring_user MONITORING_USER
\getenv monitoring_password MONITORING_PASSWORD
\getenv database PGDATABASE

SELECT format('CREATE ROLE %I', name)
FROM unnest(ARRAY[:'app_user', :'monitoring_user']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', name, secret)
FROM (VALUES (:'app_user', :'app_password'), (:'monitoring_user', :'monitoring_password')) AS role (name, secret) \gexec

GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app_user";
GRANT USAGE, CREATE ON SCHEMA public TO :"app_user";
GRANT CONNECT ON DATABASE :"database" TO :"monitoring_user";
GRANT pg_monitor TO :"monitoring_user";

-- The tables, views and sequences the application created while it logged in as the master
-- user become its own, so that its migrations can alter them (a sequence that belongs to a
-- column follows its table).
GRANT :"app_user" TO CURRENT_USER;
SELECT format(
    'ALTER %s %I.%I OWNER TO %I',
    CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
    n.nspname, c.relname, :'app_user'
)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
  AND NOT EXISTS (
      SELECT FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
  ) \gexec
