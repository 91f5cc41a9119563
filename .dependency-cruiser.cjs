// @ts-check
/**
 * The layer table of CONTRIBUTING.md, enforced in `npm test` (`npm run depcheck`).
 * Imports only go downwards (or sideways within a layer), and src/ has no import cycles.
 *
 *   0  src/config, src/errors, src/util            the bottom: import nothing above
 *   1  src/serialization, src/protocol             the pure wire core
 *   2  src/brokers, src/backends, src/security     transports behind small interfaces; signing
 *   3  src/client, src/worker, src/canvas, src/events, src/control, src/beat, src/eager, src/stubs,
 *      src/telemetry
 *   4  src/app                                     the only composition root
 *   5  src/cli, src/index.ts, src/wire.ts, src/testing.ts   entry points
 */
const L0 = '^src/(config|errors|util)/';
const L1 = '^src/(serialization|protocol)/';
const L2 = '^src/(brokers|backends|security)/';
const L3 = '^src/(client|worker|canvas|events|control|beat|eager|stubs|telemetry)/';
const L4 = '^src/app/';
const ENTRY = '^src/(cli/|index\\.ts$|wire\\.ts$|testing\\.ts$)';

/** Forbid `from` importing anything in the layers above it. */
const above = (name, from, to) => ({
  name,
  severity: 'error',
  comment: 'imports only go downwards: see the layer table in CONTRIBUTING.md',
  from: { path: from, pathNot: '\\.test\\.ts$' },
  to: { path: to },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'src/ has no import cycles',
      from: { path: '^src/' },
      to: { circular: true },
    },
    above('layer-0-is-the-bottom', L0, `${L1}|${L2}|${L3}|${L4}|${ENTRY}`),
    above('layer-1-pure-core', L1, `${L2}|${L3}|${L4}|${ENTRY}`),
    above('layer-2-transports', L2, `${L3}|${L4}|${ENTRY}`),
    above('layer-3-features', L3, `${L4}|${ENTRY}`),
    above('layer-4-app', L4, ENTRY),
    {
      name: 'library-does-not-import-tests',
      severity: 'error',
      comment: 'test helpers, benches and demo apps live outside src/ and never ship',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(test|bench|conformance|examples)/' },
    },
    {
      name: 'pure-core-has-no-io',
      severity: 'error',
      comment: 'src/protocol and src/serialization do no I/O (drivers, fs, net)',
      from: { path: L1, pathNot: '\\.test\\.ts$' },
      to: {
        path: '(^|/)node_modules/(amqplib|ioredis|pg|mysql2|@aws-sdk)/|^(node:)?(fs|net|tls|os|child_process|dgram|http|https)$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['require', 'default', 'types'],
    },
  },
};
