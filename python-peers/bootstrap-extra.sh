#!/usr/bin/env bash
# Build a pinned extra venv python-peers/.venv-<name> from requirements-<name>.txt (Celery 5.7
# plus a tool's own packages: `beat` = celery-redbeat and ephem (Celery's solar schedules),
# `stubs` = pydantic), with the default python3. Idempotent: a stamp of the requirements
# (+ interpreter) makes a re-run a no-op.
#   bash python-peers/bootstrap-extra.sh beat stubs
# `flower` = Flower 2.2 (tornado, humanize, prometheus_client) for test/integration/flower*.test.ts.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
for name in "$@"; do
  req="$HERE/requirements-$name.txt"
  venv="$HERE/.venv-$name"
  stamp="$venv/.requirements.sha256"
  [ -f "$req" ] || { echo "bootstrap-extra: no $req" >&2; exit 2; }
  want="$({ cat "$req"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bootstrap-extra: .venv-$name is current"
    continue
  fi
  echo "bootstrap-extra: building .venv-$name from requirements-$name.txt"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  "$venv/bin/python" -c 'import celery, kombu, redis'
  echo "$want" > "$stamp"
done
