#!/bin/sh
# Creates ./secrets/ with random credentials once (never overwrites): the database password and the
# URL the cloud uses, the pgpass file the backup service uses, and the webhook secret. Operators sign in to
# the console with their own accounts: docker compose exec cloud … operator add (deploy/cloud/README.md).
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
umask 077
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
[ -s secrets/postgres_password ] || random > secrets/postgres_password
password=$(cat secrets/postgres_password)
[ -s secrets/database_url ] || printf 'postgres://tusafishe:%s@postgres:5432/tusafishe' "$password" > secrets/database_url
[ -s secrets/pgpass ] || printf 'postgres:5432:tusafishe:tusafishe:%s\n' "$password" > secrets/pgpass
[ -s secrets/webhook_secret ] || random > secrets/webhook_secret
echo "secrets in $(pwd)/secrets (keep a copy with the backups)"
