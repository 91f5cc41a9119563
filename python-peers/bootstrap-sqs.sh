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
