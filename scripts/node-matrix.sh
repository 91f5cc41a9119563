#!/usr/bin/env bash
# The Node versions package.json's `engines` promises, beyond the machine's own Node (20): for
# each, the unit project, the packed-tarball consumer test and the call CLI against real Celery,
# run on that Node binary (from the registry's `node` package, the way npm provides it).
#   bash scripts/node-matrix.sh [22 24 …]
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)
for v in "${versions[@]}"; do
  printf '\n=== Node %s\n' "$v"
  npm exec -y --package="node@$v" -- node --version
  npm exec -y --package="node@$v" -- node node_modules/jest/bin/jest.js --selectProjects unit --silent
  npm exec -y --package="node@$v" -- node node_modules/jest/bin/jest.js --selectProjects integration \
    --runInBand --forceExit test/integration/package.test.ts test/integration/call-cli.test.ts
done
