#!/usr/bin/env bash
# Start the conformance peer worker with real Celery.
# Env: CELERY_LINE=<line of lines.txt> (venv), CELERY_POOL=solo|prefork (default solo), CELERY_CONCURRENCY (prefork),
#      CELERY_BROKER_URL, CELERY_RESULT_BACKEND, CELERY_TASK_SERIALIZER, CELERY_TASK_PROTOCOL,
#      PY_QUEUES (default py,celery), PY_NODENAME (default py@%h), CELERY_VENV (override venv path).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LINE="${CELERY_LINE:-5.7}"
VENV="${CELERY_VENV:-$HERE/.venv-$LINE}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || PY="python3"   # Docker image: packages installed system-wide
POOL="${CELERY_POOL:-solo}"
args=(-A peer.app worker -Q "${PY_QUEUES:-py,celery}" -n "${PY_NODENAME:-py@%h}"
      --without-gossip --without-mingle -l "${CELERY_LOGLEVEL:-info}" -P "$POOL" -E)
[[ "$POOL" == "prefork" ]] && args+=(-c "${CELERY_CONCURRENCY:-2}")
cd "$HERE"
exec "$PY" -m celery "${args[@]}" "$@"
