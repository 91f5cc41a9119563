#!/usr/bin/env bash
# Create/refresh the pinned Python venvs (python-peers/.venv-<line>). Idempotent: a stamp file holding
# the sha256 of requirements-<line>.txt (+ interpreter version) makes re-runs a no-op when nothing changed.
# Lines and their interpreters: lines.txt. CELERY_LINES="5.7 5.2" limits lines ("all" = every line of
# lines.txt); PYTHON= forces one interpreter for every selected line; PYTHON_<X>_<Y>= (e.g. PYTHON_4_4)
# for one line.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lines.sh
source "$HERE/lines.sh"
LINES="$(celery_lines "${CELERY_LINES:-}")"

for line in $LINES; do
  req="$HERE/requirements-$line.txt"
  venv="$HERE/.venv-$line"
  stamp="$venv/.requirements.sha256"
  py="$(line_python "$line")"
  want="$({ cat "$req"; "$py" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bootstrap: .venv-$line is current"
    continue
  fi
  echo "bootstrap: building .venv-$line from requirements-$line.txt with $("$py" -V 2>&1)"
  start=$SECONDS
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  "$venv/bin/python" -c 'import celery, kombu, redis, msgpack, yaml, amqp'
  echo "$want" > "$stamp"
  echo "bootstrap: .venv-$line built in $((SECONDS - start)) s"
done
