#!/usr/bin/env bash
# A venv for the message-signing interop tests (celery.security needs `cryptography`, which the
# 5.7 peer venv does not have): Celery 5.7 from .venv-5.7 via a .pth, plus cryptography.
# Idempotent; prints the python path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
base="$here/.venv-5.7"
venv="$here/.venv-5.7-security"
if [ ! -x "$venv/bin/python" ]; then
  "$base/bin/python" -m venv "$venv"
  site_base="$("$base/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  site_new="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$site_base" > "$site_new/celery-5.7-peer.pth"
fi
"$venv/bin/python" -c 'import cryptography' 2>/dev/null || "$venv/bin/pip" install -q 'cryptography>=42' >&2
"$venv/bin/python" -c 'import celery.security, cryptography' >&2
echo "$venv/bin/python"
