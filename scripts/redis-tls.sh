#!/usr/bin/env bash
# A private TLS redis-server with certificates made by openssl (Debian's redis-server 7.0 is
# built with TLS: `--tls-port` works).
#   scripts/redis-tls.sh certs <dir>                 → ca.pem, server.{pem,key}, client.{pem,key},
#                                                      other-ca.pem (a CA that signed nothing here)
#   scripts/redis-tls.sh start <port> <dir> [args…]  → TLS only (plain port 0), prints the pid;
#                                                      add `--tls-auth-clients yes` for mutual TLS
#   scripts/redis-tls.sh stop <dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?certs|start|stop}
case "$cmd" in
  certs)
    d=${2:?dir}; mkdir -p "$d"; cd "$d"
    ossl() { openssl "$@" >/dev/null 2>&1; }
    ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cw-test-ca -keyout ca.key -out ca.pem
    ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cw-other-ca -keyout other-ca.key -out other-ca.pem
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
    for who in server client; do
      ossl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$who.key" -out "$who.csr"
      ossl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out "$who.pem"
    done
    chmod 600 ./*.key; echo "$d" ;;
  start)
    port=${2:?port}; d=${3:?dir}; shift 3
    REDIS_PRIVATE_NOPING=1 "$here/redis-private.sh" start 0 "$d" --tls-port "$port" \
      --tls-cert-file "$d/server.pem" --tls-key-file "$d/server.key" \
      --tls-ca-cert-file "$d/ca.pem" --tls-auth-clients no "$@"
    for _ in $(seq 1 100); do
      redis-cli --tls --cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client.key" \
        -p "$port" ping >/dev/null 2>&1 && exit 0
      sleep 0.05
    done
    echo "TLS redis-server on $port did not answer; see $d/redis.log" >&2; exit 1 ;;
  stop) "$here/redis-private.sh" stop "${2:?dir}" ;;
  *) echo "usage: $0 certs <dir> | start <port> <dir> [args…] | stop <dir>" >&2; exit 2 ;;
esac
