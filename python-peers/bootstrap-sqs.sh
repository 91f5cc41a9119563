#!/usr/bin/env bash
# Build the pinned venvs of the SQS tests (idempotent, like bootstrap.sh: a stamp holding the
# sha256 of the requirements file + interpreter version makes re-runs a no-op):
#   .venv-moto    moto's server mode (the local SQS endpoint)   <- requirements-moto.txt
#   .venv-5.7-sqs Celery 5.7.0 + kombu[sqs] (boto3, pycurl)      <- requirements-5.7-sqs.txt
#   .venv-5.2-sqs Celery 5.2.7 + kombu[sqs] (boto3, pycurl 7.44) <- requirements-5.2-sqs.txt
# pycurl 7.44.1 has no wheel: building it needs `apt-get install -y libcurl4-openssl-dev libssl-dev`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
NAMES="${SQS_VENVS:-moto 5.7-sqs 5.2-sqs}"

# The Debian packages pycurl's build needs (README's first command on a fresh machine reaches this
# through the SQS rows of `npm run conformance`): installed when missing, as .ci/run does, if we
# may (root, or passwordless sudo); otherwise a clear error naming the command.
DEB_PACKAGES="${SQS_DEB_PACKAGES:-libcurl4-openssl-dev libssl-dev}"
ensure_build_packages() {
  local missing=()
  local p
  for p in $DEB_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local as=()
  if [[ "$(id -u)" != 0 ]]; then
    if sudo -n true 2>/dev/null; then as=(sudo -n); else
      echo "bootstrap-sqs: pycurl needs ${missing[*]}: run \`sudo apt-get install -y ${missing[*]}\` first" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap-sqs: pycurl needs the libcurl (OpenSSL) and OpenSSL headers (${missing[*]} on Debian); install them first" >&2
    return 1
  fi
  echo "bootstrap-sqs: installing ${missing[*]} (pycurl builds against them)"
  "${as[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

for name in $NAMES; do
  req="$HERE/requirements-$name.txt"
  venv="$HERE/.venv-$name"
  stamp="$venv/.requirements.sha256"
  want="$({ cat "$req"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bootstrap-sqs: .venv-$name is current"
    continue
  fi
  echo "bootstrap-sqs: building .venv-$name from requirements-$name.txt"
  [[ "$name" == moto ]] || ensure_build_packages
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
  if [[ "$name" == moto ]]; then
    "$venv/bin/python" -c 'import moto.server, flask, boto3'
  else
    "$venv/bin/python" -c 'import celery, kombu.transport.SQS, boto3, pycurl, redis'
  fi
  echo "$want" > "$stamp"
done
