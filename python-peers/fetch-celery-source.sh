#!/usr/bin/env bash
# Unpack a Celery release's source distribution (it includes Celery's own test suite, t/) into
# python-peers/.cache/celery-<version>/ and print that directory. Cached: a second call is free.
#   bash python-peers/fetch-celery-source.sh 5.7.0
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${1:?usage: fetch-celery-source.sh VERSION}"
dest="$HERE/.cache/celery-$version"
if [ ! -f "$dest/t/integration/tasks.py" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    "celery==$version" -d "$tmp" >&2
  mkdir -p "$HERE/.cache"
  rm -rf "$dest"
  tar -xzf "$tmp/celery-$version.tar.gz" -C "$HERE/.cache"
fi
echo "$dest"
