#!/usr/bin/env bash
# Golden rows of the database result backend per Celery line -> protocol-fixtures/database/.
# Needs the db venvs (bootstrap-db.sh); no database server (values come from Celery's code paths).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/bootstrap-db.sh"
for line in ${CELERY_LINES:-5.7 5.2}; do
  "$HERE/.venv-$line-db/bin/python" "$HERE/fixtures_db/generate.py" "$HERE/../protocol-fixtures/database"
done
