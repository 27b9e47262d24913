#!/usr/bin/env bash
# Creates Talktime's roles and database by running db/bootstrap.sql (mounted at /talktime/bootstrap.sql).
#
# The postgres image runs this once, on the first start with an empty data volume, as the superuser against
# its temporary Unix-socket-only server. Changing the passwords in .env later does not change the roles: do
# that with ALTER ROLE, or start over with a fresh volume.
#
# The entrypoint sources *.sh files that are not executable instead of running them, so this script sets
# no shell options the entrypoint does not already use (no `set -u`) and stops only on errors.
set -eo pipefail

: "${TALKTIME_OWNER_PASSWORD:?TALKTIME_OWNER_PASSWORD is not set}"
: "${TALKTIME_APP_PASSWORD:?TALKTIME_APP_PASSWORD is not set}"

psql --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
	--set ON_ERROR_STOP=1 \
	--set owner_password="$TALKTIME_OWNER_PASSWORD" \
	--set app_password="$TALKTIME_APP_PASSWORD" \
	--set database="${TALKTIME_DATABASE:-talktime}" \
	--file /talktime/bootstrap.sql
