import { randomUUID } from 'node:crypto';
import type { ConformanceCase } from './cases';
import { startSentinel, startSqs, startTls, type Estate } from './estates';
import type { Transport } from './run-node-to-python';
import type { TransportKey } from './selection';
import type { CeleryLine } from '../../../src/config/config';

/**
 * The broker/backend estates of the matrix. The shared Redis and RabbitMQ come from the
 * environment; SQS, Sentinel and TLS are private servers the harness starts on first use
 * (`estates.ts`) and stops after the run ({@link stopEstates}).
 */
const REDIS = process.env.CONFORMANCE_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const AMQP = process.env.CONFORMANCE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
/**
 * The `redis-options` rows' own database. Without `global_keyprefix` (lines before 5.2) their
 * `sep: '::'` binding members land in the unprefixed shared sets (`_kombu.binding.reply.celery
 * .pidbox` …), and every kombu of the default separator then fails on them (`ValueError: not
 * enough values to unpack` in `_lookup`: no control reply reaches anyone on that database).
 */
const REDIS_OPTIONS = process.env.CONFORMANCE_REDIS_OPTIONS_URL ?? 'redis://127.0.0.1:6379/10';

/** Display names, known before anything starts (test names are static). */
export const TRANSPORT_NAMES: Record<TransportKey, string> = {
  redis: 'Redis / redis',
  'amqp-redis': 'RabbitMQ / redis',
  'amqp-rpc': 'RabbitMQ / rpc',
  'amqp-quorum': 'RabbitMQ-quorum / redis',
  sqs: 'SQS (moto) / redis',
  'redis-sentinel': 'Redis-Sentinel / redis-sentinel',
  'redis-tls': 'Redis-TLS (mTLS) / redis-TLS',
  'redis-options': 'Redis + transport options / redis + prefix',
};

/**
 * The wire-changing Redis transport options of issue 10, both sides set alike, as far as the
 * line has them (kombu's `Channel.from_transport_options`; options a line lacks are ignored by
 * its kombu, and by celery-wire for that line):
 * - `global_keyprefix` on the broker: kombu ≥ 5.2 (Celery 5.2); on the result backend: Celery
 *   ≥ 5.3, where 5.3/5.4 join it with `_` and 5.5+ only when it ends in none of `:_-.` (a
 *   prefix ending in `:` tells the two apart);
 * - `sep`, `priority_steps`, `queue_order_strategy`, `visibility_timeout`: every line.
 */
export function redisOptionSettings(line: CeleryLine): {
  broker: Record<string, unknown>;
  backend: Record<string, unknown>;
} {
  const prefix = 'cwopt:';
  return {
    broker: {
      ...(line >= '5.2' ? { global_keyprefix: prefix } : {}),
      sep: '::',
      priority_steps: [0, 2, 4, 6, 8],
      queue_order_strategy: 'priority',
      visibility_timeout: 600,
    },
    backend: line >= '5.3' ? { global_keyprefix: prefix } : {},
  };
}

/**
 * The rpc backend cannot join a chord (celery/backends/rpc.py, `E_NO_CHORD_SUPPORT`, raised as
 * `NotImplementedError` by `RPCBackend.apply_chord`); celery-wire refuses it the same way.
 */
function rpcNotApplicable(c: ConformanceCase): string | null {
  return c.canvas?.kind === 'chord'
    ? 'The "rpc" result backend does not support chords! (celery/backends/rpc.py, E_NO_CHORD_SUPPORT)'
    : null;
}

/**
 * No remote control on SQS: Celery's worker starts no pidbox there (celery/worker/consumer/
 * control.py, `Control.include_if` needs `conninfo.supports_exchange_type('fanout')`, and kombu's
 * SQS transport has fanout only with its opt-in SNS `supports_fanout`); celery-wire's SQS broker
 * has no fanout either (docs/sqs.md).
 */
function sqsNotApplicable(c: ConformanceCase): string | null {
  return c.control !== undefined
    ? "No remote control on SQS: Celery's worker starts no pidbox (celery/worker/consumer/control.py, Control.include_if requires supports_exchange_type('fanout'); kombu's SQS transport has no fanout without SNS supports_fanout)"
    : null;
}

const started = new Map<TransportKey, Promise<Estate>>();

function estate(key: TransportKey, start: () => Promise<Estate>): Promise<Estate> {
  let e = started.get(key);
  if (e === undefined) {
    e = start();
    started.set(key, e);
  }
  return e;
}

/** The transport of a key, its private server started if it needs one. */
export async function resolveTransport(key: TransportKey, line: CeleryLine): Promise<Transport> {
  const name = TRANSPORT_NAMES[key];
  switch (key) {
    case 'redis':
      return { name, brokerUrl: REDIS, resultBackend: REDIS };
    case 'amqp-redis':
      return { name, brokerUrl: AMQP, resultBackend: REDIS };
    case 'amqp-rpc':
      return { name, brokerUrl: AMQP, resultBackend: 'rpc://', notApplicable: rpcNotApplicable };
    case 'amqp-quorum':
      return {
        name,
        brokerUrl: AMQP,
        resultBackend: REDIS,
        config: { taskDefaultQueueType: 'quorum', taskCreateMissingQueueType: 'quorum' },
        env: { CELERY_QUORUM_QUEUES: '1' },
      };
    case 'sqs': {
      const e = await estate(key, startSqs);
      // As the SQS integration suite: short long-polls, a prefix of this run (kombu's
      // `queue_name_prefix`), a visibility timeout longer than any case's countdown.
      const opts = {
        region: 'us-east-1',
        queue_name_prefix: `cw-conf-${randomUUID().slice(0, 8)}-`,
        wait_time_seconds: 1,
        polling_interval: 0.1,
        visibility_timeout: 60,
      };
      return {
        name,
        brokerUrl: e.brokerUrl,
        // A real SQS estate keeps results elsewhere (SQS is no result backend); Redis here, as
        // docs/sqs.md and test/integration/sqs-interop.test.ts.
        resultBackend: REDIS,
        config: { brokerTransportOptions: opts },
        env: { CELERY_BROKER_TRANSPORT_OPTIONS: JSON.stringify(opts), NODE_NO_WARNINGS: '1' },
        pythonVenv: (line) => `${line}-sqs`,
        notApplicable: sqsNotApplicable,
        sqsWorker: true,
      };
    }
    case 'redis-sentinel': {
      const e = await estate(key, startSentinel);
      const opts = { master_name: 'mymaster' };
      return {
        name,
        brokerUrl: e.brokerUrl,
        resultBackend: e.resultBackend,
        config: { brokerTransportOptions: opts, resultBackendTransportOptions: opts },
        env: {
          CELERY_BROKER_TRANSPORT_OPTIONS: JSON.stringify(opts),
          CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS: JSON.stringify(opts),
        },
      };
    }
    case 'redis-tls': {
      const e = await estate(key, startTls);
      return { name, brokerUrl: e.brokerUrl, resultBackend: e.resultBackend };
    }
    case 'redis-options': {
      const o = redisOptionSettings(line);
      return {
        name,
        brokerUrl: REDIS_OPTIONS,
        resultBackend: REDIS_OPTIONS,
        config: { brokerTransportOptions: o.broker, resultBackendTransportOptions: o.backend },
        env: {
          CELERY_BROKER_TRANSPORT_OPTIONS: JSON.stringify(o.broker),
          CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS: JSON.stringify(o.backend),
        },
      };
    }
  }
}

/** Stop every private server this run started. */
export async function stopEstates(): Promise<void> {
  const all = [...started.values()];
  started.clear();
  await Promise.all(all.map((p) => p.then((e) => e.stop()).catch(() => undefined)));
}
