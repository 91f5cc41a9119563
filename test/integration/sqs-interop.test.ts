import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../src/app/app';
import { TaskFailedError } from '../../src/errors/errors';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';
import {
  SQS_RESULTS,
  runSqsPython,
  sqsEnv,
  startSqsPythonWorker,
  startSqsServer,
  type Line,
  type SqsServer,
} from '../support/sqs';
import { FULL, casesFor, mismatch } from '../support/worker/catalogue-cases';
import type { PyCase, PyOutcome } from '../support/worker/int-helpers';

jest.setTimeout(300_000);

/**
 * Python Celery (kombu's SQS transport, `celery[sqs]`) and celery-wire on one SQS server (moto's
 * server mode on 127.0.0.1, `scripts/sqs-server.sh`), both directions, Celery 5.7 and 5.2.
 */

let server: SqsServer;
let sqs: SQSClient;

beforeAll(async () => {
  server = await startSqsServer();
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${String(server.port)}`,
    credentials: { accessKeyId: 'testkey', secretAccessKey: 'testsecret' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

const uid = (): string => randomUUID().slice(0, 8);

/** Transport options both sides get: a prefix per test, short long-polls, a short timeout. */
function options(prefix: string, visibilityTimeout = 60): Record<string, unknown> {
  return {
    region: 'us-east-1',
    queue_name_prefix: prefix,
    wait_time_seconds: 1,
    polling_interval: 0.1,
    visibility_timeout: visibilityTimeout,
  };
}

function produce(
  line: Line,
  env: NodeJS.ProcessEnv,
  queue: string,
  cases: readonly PyCase[],
  timeout = 20,
): Promise<Record<string, PyOutcome>> {
  return runSqsPython(line, ['-m', 'peer.worker_producer'], env, { queue, timeout, cases });
}

function nodeWorker(
  line: Line,
  env: NodeJS.ProcessEnv,
  queue: string,
  concurrency = 4,
): Promise<NodeWorkerProcess> {
  return startNodeWorker({
    args: [
      '--app',
      'conformance/app/index.ts',
      '-b',
      server.brokerUrl,
      '-Q',
      queue,
      '-c',
      String(concurrency),
      '-n',
      `ts-${uid()}@%h`,
      '--celery-line',
      line,
    ],
    env,
  });
}

async function queueUrls(prefix: string): Promise<string[]> {
  const r = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  return r.QueueUrls ?? [];
}

describe.each(['5.7', '5.2'] as const)('SQS, Celery %s', (line) => {
  it('Python producer → TS worker: the conformance catalogue; prefix and . → - naming', async () => {
    const prefix = `cw-${uid()}.p.`;
    const env = sqsEnv(server.brokerUrl, options(prefix));
    const queue = `ts.cat.${uid()}`;
    const worker = await nodeWorker(line, env, queue);
    try {
      // Celery 5.2 does not put `ignore_result` in the message (5.3+ does), so `ignored` is a
      // 5.7-only case, as in the Redis worker suite.
      const names = Object.keys(FULL).filter((n) => line === '5.7' || n !== 'ignored');
      const out = await produce(line, env, queue, casesFor(names, `sqs-${line}-${uid()}`));
      const bad = names
        .map((n) => mismatch(n, Object.entries(out).find(([k]) => k.endsWith(`-${n}`))?.[1]))
        .filter((m) => m !== null);
      expect(bad).toEqual([]);
      // kombu's canonical_queue_name: prefix + name, then every '.' → '-'.
      const urls = await queueUrls(prefix.replace(/\./g, '-'));
      expect(urls.map((u) => u.split('/').pop())).toContain((prefix + queue).replace(/\./g, '-'));
    } finally {
      await worker.stop();
    }
    // No pidbox, no events queues: SQS has no fanout, so the worker declared none.
    const all = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    expect(all.filter((u) => /pidbox|celeryev/.test(u))).toEqual([]);
    expect(worker.log()).not.toMatch(/pidbox/i);
  });

  it('Node client → Python worker: values, failures, countdown, retry', async () => {
    const prefix = `cw-${uid()}-c-`;
    const opts = options(prefix);
    const env = sqsEnv(server.brokerUrl, opts);
    const queue = `py.${uid()}`;
    const py = await startSqsPythonWorker(line, env, queue);
    const app = createApp({
      env: {},
      brokerUrl: server.brokerUrl,
      brokerTransportOptions: opts,
      resultBackend: env.CELERY_RESULT_BACKEND ?? '',
      taskDefaultQueue: queue,
      celeryLine: line,
    });
    try {
      const value = { s: 'héllo ☃ 𝄞', big: 2n ** 70n, neg: -(2n ** 64n), l: [1, null, true] };
      const id = await app.sendTask('conformance.identity', { args: [value] });
      expect(await id.get({ timeout: 30 })).toEqual(value);
      const add = await app.sendTask('conformance.add', { args: [2, 40] });
      expect(await add.get({ timeout: 30 })).toBe(42);
      const fail = await app.sendTask('conformance.fail', { args: ['KeyError', 'nope'] });
      const err: unknown = await fail.get({ timeout: 30 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).excType).toBe('KeyError');
      const t0 = Date.now();
      const cd = await app.sendTask('conformance.add', { args: [1, 1], countdown: 2 });
      expect(await cd.get({ timeout: 30 })).toBe(2);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
      const retry = await app.sendTask('conformance.retry', { args: [2] });
      expect(await retry.get({ timeout: 30 })).toBe(2);
    } finally {
      await app.close();
      await py.stop();
    }
  });

  it('kill -9 of the TS worker with acks_late: redelivered after the visibility timeout, lost 0', async () => {
    const prefix = `cw-${uid()}-k-`;
    const env = sqsEnv(server.brokerUrl, options(prefix, 4));
    const queue = `ts.crash.${uid()}`;
    const crashId = `crash-${uid()}`;
    // One slot: the plain tasks (early ack, as Celery's default) wait prefetched, received but
    // not started, while crash_once runs. With more slots one of them could start beside it, be
    // acked and die with the process before its result is stored: at-most-once, Celery's
    // semantics for early-ack tasks, and not what this test is about (a fresh-clone CI run lost
    // plain-0 that way at -c 4).
    const first = await nodeWorker(line, env, queue, 1);
    const plain: PyCase[] = Array.from({ length: 10 }, (_, i) => ({
      id: `plain-${uid()}-${String(i)}`,
      task: 'conformance.add',
      args: [i, 1],
      no_wait: true,
    }));
    await produce(line, env, queue, [
      { id: crashId, task: 'conformance.crash_once', args: [crashId], no_wait: true },
      ...plain,
    ]);
    // The task SIGKILLs its own worker right after setting its marker, its message unacked.
    const redis = new Redis(SQS_RESULTS);
    try {
      for (let i = 0; i < 120 && (await redis.get(`conformance:crash:${crashId}`)) !== '1'; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await redis.get(`conformance:crash:${crashId}`)).toBe('1');
    } finally {
      redis.disconnect();
    }
    await first.stop();
    const second = await nodeWorker(line, env, queue);
    try {
      const cases: PyCase[] = [
        { id: crashId, task: 'conformance.crash_once', get_only: true },
        ...plain.map((p) => ({ id: p.id, task: p.task, get_only: true })),
      ];
      const out = await produce(line, env, queue, cases, 60).catch((e: unknown) => {
        throw new Error(`${String(e)}\nfirst worker:\n${first.log()}\nsecond:\n${second.log()}`);
      });
      expect(out[crashId]).toMatchObject({ state: 'SUCCESS', repr: "'survived'" });
      const lost = plain.filter((p, i) => out[p.id]?.repr !== String(i + 1));
      expect(lost).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('wire: celery-wire sends the body kombu sends (base64 of the virtual-transport envelope)', async () => {
    const prefix = `cw-${uid()}-w-`;
    const opts = options(prefix);
    const env = sqsEnv(server.brokerUrl, opts);
    const queue = `wire.${uid()}`;
    await produce(line, env, queue, [
      { id: `w-${uid()}`, task: 'conformance.add', args: [1, 2], no_wait: true },
    ]);
    const app = createApp({
      env: {},
      brokerUrl: server.brokerUrl,
      brokerTransportOptions: opts,
      resultBackend: 'disabled',
      celeryLine: line,
    });
    try {
      await app.sendTask('conformance.add', { args: [1, 2], queue, ignoreResult: true });
    } finally {
      await app.close();
    }
    const [url] = await queueUrls(prefix + 'wire-');
    const bodies: string[] = [];
    for (let i = 0; i < 10 && bodies.length < 2; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of r.Messages ?? []) bodies.push(m.Body ?? '');
    }
    expect(bodies).toHaveLength(2);
    const shapes = bodies.map((b) => {
      expect(b).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const env2 = JSON.parse(Buffer.from(b, 'base64').toString('utf8')) as Record<string, unknown>;
      const props = env2.properties as Record<string, unknown>;
      return {
        keys: Object.keys(env2),
        props: Object.keys(props).filter((k) => k !== 'reply_to' && k !== 'correlation_id'),
        di: props.delivery_info,
        enc: [props.body_encoding, env2['content-type'], env2['content-encoding']],
      };
    });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[0]?.keys).toEqual([
      'body',
      'content-encoding',
      'content-type',
      'headers',
      'properties',
    ]);
    expect(shapes[0]?.di).toEqual({ exchange: '', routing_key: queue });
  });
});

describe('SQS: FIFO queues, predefined queues, unreadable messages', () => {
  it.each(['5.7', '5.2'] as const)(
    'FIFO (Celery %s): both sides send MessageGroupId "default" and a deduplication id',
    async (line) => {
      const prefix = `cw-${uid()}-f-`;
      const opts = options(prefix);
      const env = sqsEnv(server.brokerUrl, opts);
      const queue = `jobs.${uid()}.fifo`;
      const worker = await nodeWorker(line, env, queue);
      try {
        const ids = [0, 1, 2].map((i) => ({
          id: `fifo-${uid()}-${String(i)}`,
          task: 'conformance.add',
          args: [i, 10],
        }));
        const out = await produce(line, env, queue, ids);
        expect(ids.map((c) => out[c.id]?.repr)).toEqual(['10', '11', '12']);
      } finally {
        await worker.stop();
      }
      // The SQS name keeps `.fifo` and translates the rest; Node's sends are accepted by SQS,
      // which refuses FIFO sends without MessageGroupId/MessageDeduplicationId.
      const [url] = await queueUrls(prefix);
      expect(url?.endsWith(`${prefix}${queue.slice(0, -5).replace(/\./g, '-')}.fifo`)).toBe(true);
      const app = createApp({
        env: {},
        brokerUrl: server.brokerUrl,
        brokerTransportOptions: opts,
        resultBackend: 'disabled',
        celeryLine: line,
      });
      try {
        await app.sendTask('conformance.add', { args: [1, 2], queue, ignoreResult: true });
      } finally {
        await app.close();
      }
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        }),
      );
      const attrs = r.Messages?.[0]?.Attributes;
      if (attrs === undefined) {
        const a = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
        );
        throw new Error(`nothing received: ${JSON.stringify(a.Attributes)}\n${worker.log()}`);
      }
      expect(attrs.MessageGroupId).toBe('default');
      expect(attrs.MessageDeduplicationId).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('predefined_queues: both sides use the given URL and never create queues', async () => {
    const name = `predef-${uid()}`;
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const url = created.QueueUrl ?? '';
    const opts = {
      ...options(''),
      predefined_queues: {
        [name]: { url, access_key_id: 'testkey', secret_access_key: 'testsecret' },
      },
    };
    const env = sqsEnv(server.brokerUrl, opts);
    const worker = await nodeWorker('5.7', env, name);
    try {
      const id = `pre-${uid()}`;
      const out = await produce('5.7', env, name, [{ id, task: 'conformance.add', args: [4, 5] }]);
      expect(out[id]?.repr).toBe('9');
    } finally {
      await worker.stop();
    }
    const app = createApp({
      env: {},
      brokerUrl: server.brokerUrl,
      brokerTransportOptions: opts,
      resultBackend: 'disabled',
    });
    try {
      await expect(
        app.sendTask('conformance.add', { args: [1, 2], queue: 'not-predefined' }),
      ).rejects.toThrow(/must be defined in 'predefined_queues'/);
    } finally {
      await app.close();
    }
    expect(await queueUrls('not-predefined')).toEqual([]);
  });

  it('a body that is not a Celery message is reported and removed; the worker keeps consuming', async () => {
    const prefix = `cw-${uid()}-b-`;
    const env = sqsEnv(server.brokerUrl, options(prefix));
    const queue = `bad.${uid()}`;
    const worker = await nodeWorker('5.7', env, queue);
    try {
      const [url] = await queueUrls(prefix);
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not a kombu message' }));
      const id = `after-${uid()}`;
      const out = await produce('5.7', env, queue, [
        { id, task: 'conformance.add', args: [1, 1], options: { countdown: 1 } },
      ]);
      expect(out[id]?.repr).toBe('2');
      expect(worker.log()).toMatch(/Received and deleted unknown message/);
      // kombu 5.7 deletes a message rejected without requeue (no redrive policy).
      const left = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      expect(left.Attributes).toMatchObject({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
      });
    } finally {
      await worker.stop();
    }
  });
});
