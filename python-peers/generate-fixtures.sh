#!/usr/bin/env bash
# One command: build the venvs, run the generator for every Celery line, write manifest.json.
# Output: protocol-fixtures/celery-<line>/<kind>/<case>.json (old line directories are replaced).
# CELERY_LINES="5.7 5.2" limits the lines (default: all of lines.txt).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="$ROOT/protocol-fixtures"
# shellcheck source=lines.sh
source "$HERE/lines.sh"
LINES="$(celery_lines "${CELERY_LINES:-}")"   # default: every line of lines.txt
export TZ=UTC PYTHONHASHSEED=0 LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
export PYTHONWARNINGS=ignore

CELERY_LINES="$LINES" bash "$HERE/bootstrap.sh"
for line in $LINES; do
  dir="$OUT/celery-$line"
  tmp="$(mktemp -d)"
  "$HERE/.venv-$line/bin/python" "$HERE/fixtures/generate.py" "$tmp" >/dev/null
  "$HERE/.venv-$line/bin/python" "$HERE/capture.py" --pinned "$tmp/captured" >/dev/null
  # Quorum-queue estates (5.5+; writes nothing on older lines). Needs RabbitMQ, publishes nothing.
  "$HERE/.venv-$line/bin/python" "$HERE/fixtures/quorum_publish.py" "$tmp/quorum" >/dev/null
  rm -rf "$dir"
  mv "$tmp" "$dir"
  chmod -R a+rX "$dir"
  echo "generate-fixtures: celery-$line: $(find "$dir" -name '*.json' | wc -l) cases"
done
# The manifest lists every line directory present, so regenerating a subset keeps the others.
python3 "$HERE/fixtures/manifest.py" "$OUT" $(cd "$OUT" && ls -d celery-* | sed 's/^celery-//')
