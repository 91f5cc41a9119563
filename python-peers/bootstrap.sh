#!/usr/bin/env bash
# Create/refresh the pinned Python venvs (python-peers/.venv-<line>). Idempotent: a stamp file holding
# the sha256 of requirements-<line>.txt (+ interpreter version) makes re-runs a no-op when nothing changed.
# Lines: 5.7 and 5.2. 4.4 is skipped: see README.md ("Celery 4.4.7").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
LINES="${CELERY_LINES:-5.7 5.2}"

for line in $LINES; do
  req="$HERE/requirements-$line.txt"
  venv="$HERE/.venv-$line"
  stamp="$venv/.requirements.sha256"
  want="$({ cat "$req"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bootstrap: .venv-$line is current"
    continue
  fi
  echo "bootstrap: building .venv-$line from requirements-$line.txt"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  "$venv/bin/python" -c 'import celery, kombu, redis, msgpack, yaml, amqp'
  echo "$want" > "$stamp"
done
