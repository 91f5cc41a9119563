#!/usr/bin/env bash
# Build the database-backend peer venvs python-peers/.venv-<line>-db from requirements-<line>-db.txt
# (pip freeze of celery==<v> + SQLAlchemy + psycopg2-binary + PyMySQL + Django + django-celery-results,
# installed --no-deps like bootstrap.sh). Idempotent via a stamp of the lock's sha256.
# Used by the database integration tests (src/backends/database/*.int.test.ts) and
# python-peers/fixtures_db/generate.py. CI: `bash python-peers/bootstrap-db.sh` after bootstrap.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
LINES="${CELERY_LINES:-5.7 5.2}"

for line in $LINES; do
  req="$HERE/requirements-$line-db.txt"
  venv="$HERE/.venv-$line-db"
  stamp="$venv/.requirements.sha256"
  want="$({ cat "$req"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bootstrap-db: .venv-$line-db is current"
    continue
  fi
  echo "bootstrap-db: building .venv-$line-db from requirements-$line-db.txt"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  "$venv/bin/python" -c 'import celery, kombu, sqlalchemy, psycopg2, pymysql, django, django_celery_results'
  echo "$want" > "$stamp"
done
