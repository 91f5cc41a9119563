#!/usr/bin/env bash
# A venv for the message-signing interop tests (celery.security needs `cryptography`, which the
# peer venvs do not have): Celery <line> (default 5.7) from .venv-<line> via a .pth, plus
# cryptography.   bootstrap-security.sh [line]   Idempotent; prints the python path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
line="${1:-5.7}"
base="$here/.venv-$line"
venv="$here/.venv-$line-security"
if [ ! -x "$venv/bin/python" ]; then
  "$base/bin/python" -m venv "$venv"
  site_base="$("$base/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  site_new="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$site_base" > "$site_new/celery-$line-peer.pth"
fi
"$venv/bin/python" -c 'import cryptography' 2>/dev/null || "$venv/bin/pip" install -q 'cryptography>=42' >&2
"$venv/bin/python" -c 'import celery.security, cryptography' >&2
echo "$venv/bin/python"
