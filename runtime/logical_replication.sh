#!/bin/sh
# Keeps the DR site's logical replication in shape: RDS publishes, Azure Database for PostgreSQL
# subscribes. Run by the dr-replication setup Job (psql 16 on Alpine); idempotent, it runs again
# whenever its configuration changes and leaves a working subscription as it is.
#
#   PUB_HOST / PUB_PORT / DATABASE          the RDS primary and the application database
#   PUB_USER / PUB_PASSWORD                 the RDS master user (from Secrets Manager)
#   REPLICATOR / REPLICATOR_PASSWORD        the replication role (password generated into Secrets Manager)
#   PUBLICATION / SUBSCRIPTION              their names
#   SUB_HOST / SUB_USER                     the Azure server and the Entra identity administering it
#   APP_USER / APP_PASSWORD                 the application's role (its password from Secrets Manager,
#                                           the same the standby workloads read from the Key Vault)
#   AZURE_CLIENT_ID / AZURE_TENANT_ID /
#   AZURE_FEDERATED_TOKEN_FILE              the workload identity the pod signs in to Entra ID with
#
# No password is written anywhere but into the subscription's connection (pg_subscription on
# Azure, readable by its administrators only) and the application role's verifier: the Job signs
# in to Azure with an Entra token, fetched by exchanging the pod's projected service account
# token (no client secret exists). The application role may only read while the subscription
# runs (a write would conflict with the replicated rows); the failover runbook grants it the rest.
set -eu

# Logical replication does not carry DDL: the schema is loaded once, before the first
# subscription; later changes follow the runbook's schema-change procedure.
export PGSSLMODE=require PGCONNECT_TIMEOUT=15
publisher="host=$PUB_HOST port=$PUB_PORT dbname=$DATABASE user=$PUB_USER"

entra_token() {
    assertion=$(cat "$AZURE_FEDERATED_TOKEN_FILE")
    wget -qO- \
        --post-data "client_id=$AZURE_CLIENT_ID&grant_type=client_credentials&scope=https%3A%2F%2Fossrdbms-aad.database.windows.net%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$assertion" \
        "https://login.microsoftonline.com/$AZURE_TENANT_ID/oauth2/v2.0/token" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

echo "publisher: role $REPLICATOR and publication $PUBLICATION on $PUB_HOST"
PGPASSWORD=$PUB_PASSWORD psql "$publisher" --no-psqlrc --quiet -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\getenv replicator REPLICATOR
\getenv replicator_password REPLICATOR_PASSWORD
\getenv publication PUBLICATION
SELECT format('CREATE ROLE %I', :'replicator')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'replicator') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'replicator', :'replicator_password') \gexec
GRANT rds_replication TO :"replicator";
GRANT USAGE ON SCHEMA public TO :"replicator";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"replicator";
SELECT format('CREATE PUBLICATION %I FOR ALL TABLES', :'publication')
WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = :'publication') \gexec
SQL

PGPASSWORD=$(entra_token)
[ -n "$PGPASSWORD" ] || { echo "no Entra token for $SUB_USER" >&2; exit 1; }
export PGPASSWORD
subscriber="host=$SUB_HOST port=5432 dbname=$DATABASE user=$SUB_USER"
tables=$(psql "$subscriber" --no-psqlrc -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" = 0 ]; then
    echo "subscriber: loading the schema of $DATABASE from the publisher"
    PGPASSWORD=$PUB_PASSWORD pg_dump "$publisher" --schema-only --schema=public --no-owner --no-privileges |
        psql "$subscriber" --no-psqlrc --quiet -v ON_ERROR_STOP=1
fi

echo "subscriber: subscription $SUBSCRIPTION on $SUB_HOST"
psql "$subscriber" --no-psqlrc --quiet -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\getenv subscription SUBSCRIPTION
\getenv publication PUBLICATION
\getenv pub_host PUB_HOST
\getenv pub_port PUB_PORT
\getenv database DATABASE
\getenv replicator REPLICATOR
\getenv replicator_password REPLICATOR_PASSWORD
SELECT format('host=%s port=%s dbname=%s user=%s password=%s sslmode=require',
    :'pub_host', :'pub_port', :'database', :'replicator', :'replicator_password') AS conninfo \gset
SELECT EXISTS (SELECT FROM pg_subscription WHERE subname = :'subscription') AS subscribed \gset
\if :subscribed
-- Keeps the connection current (a new replicator password) and picks up tables created since.
ALTER SUBSCRIPTION :"subscription" CONNECTION :'conninfo';
ALTER SUBSCRIPTION :"subscription" REFRESH PUBLICATION;
\else
CREATE SUBSCRIPTION :"subscription" CONNECTION :'conninfo' PUBLICATION :"publication" WITH (copy_data = true);
\endif
SQL

echo "subscriber: application role $APP_USER (read-only while subscribed)"
psql "$subscriber" --no-psqlrc --quiet -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\getenv app_user APP_USER
\getenv app_password APP_PASSWORD
SELECT format('CREATE ROLE %I', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'app_user', :'app_password') \gexec
GRANT USAGE ON SCHEMA public TO :"app_user";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"app_user";
SQL
echo "done"
