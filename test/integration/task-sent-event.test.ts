import { spawn } from 'node:child_process';
import { applyCanvas, chain, createApp, signature } from '../../src/index';
import { whenPythonWorkerReady } from '../support/python-worker-process';
import type { CeleryLine } from '../../src/config/config';
import {
  AMQP_URL,
  PEERS,
  peerEnv,
  python,
  runPython,
  startWorker,
  uniq,
} from '../support/worker/int-helpers';

/**
 * `task_send_sent_event`: a Node producer publishes the same `task-sent` event a Celery producer
 * does (`send_task_message`), captured raw from the event exchange by a kombu consumer
 * (python-peers/peer/sent_events.py): key order and value types of the body, the values that do
 * not depend on the sender, headers, properties and routing key. Redis and RabbitMQ, Celery 5.7
 * and 5.2, protocol 2 and 1.
 */
interface Captured {
  body: Record<string, unknown>;
  types: [string, string][];
  headers: Record<string, unknown>;
  delivery_mode: number;
  priority: number;
  content_type: string;
  routing_key: string;
}

function capture(
  env: NodeJS.ProcessEnv,
  line: CeleryLine,
  n: number,
): {
  ready: Promise<void>;
  done: Promise<Captured[]>;
} {
  const child = spawn(python(line), ['-m', 'peer.sent_events', 'capture', String(n), '20'], {
    cwd: PEERS,
    env,
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('READY')) onReady();
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<Captured[]>((res, rej) => {
    child.on('exit', () => {
      try {
        res(JSON.parse(out.trim().split('\n').pop() ?? '[]') as Captured[]);
      } catch {
        rej(new Error(`capture failed: ${out}\n${err}`));
      }
    });
  });
  return { ready, done };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
const SENDER_KEYS = new Set(['hostname', 'pid', 'uuid', 'root_id', 'eta', 'expires', 'timestamp']);

describe.each([
  ['redis', 'redis://127.0.0.1:6379/0'],
  ['amqp', AMQP_URL],
])('task-sent events over %s', (_name, broker) => {
  it.each([
    ['5.7', 2],
    ['5.7', 1],
    ['5.2', 2],
  ] as const)(
    'Celery %s, protocol %s: the Node producer sends Celery’s event',
    async (line, protocol) => {
      const env = peerEnv({ broker, backend: 'disabled://', protocol });
      const queue = uniq('cw-sent');
      const cap = capture(env, line, 2);
      await cap.ready;
      const pyId = await runPython<string>(
        ['-m', 'peer.sent_events', 'produce', queue],
        env,
        null,
        line,
      );
      const app = createApp({
        brokerUrl: broker,
        resultBackend: 'disabled://',
        celeryLine: line,
        taskProtocol: protocol,
        taskSendSentEvent: true,
        env: {},
      });
      let nodeId = '';
      try {
        const r = await app.sendTask('conformance.add', {
          args: [2, 3],
          kwargs: { z: 1 },
          queue,
          countdown: 60,
          expires: 600,
          ignoreResult: true,
        });
        nodeId = r.id;
      } finally {
        await app.close();
      }
      const events = await cap.done;
      const py = events.find((e) => e.body.uuid === pyId);
      const node = events.find((e) => e.body.uuid === nodeId);
      expect(py).toBeDefined();
      expect(node).toBeDefined();
      if (!py || !node) return;
      expect(node.types).toEqual(py.types);
      for (const [k, v] of Object.entries(py.body)) {
        if (!SENDER_KEYS.has(k)) expect([k, node.body[k]]).toEqual([k, v]);
      }
      for (const e of [py, node]) {
        expect(e.body.hostname).toMatch(/^gen\d+@/);
        expect(e.headers).toEqual({ hostname: e.body.hostname });
        expect(e.body.eta).toMatch(ISO);
        expect(e.body.expires).toMatch(ISO);
        if (protocol === 2) expect(e.body.root_id).toBe(e.body.uuid);
      }
      expect([node.delivery_mode, node.priority, node.content_type, node.routing_key]).toEqual([
        py.delivery_mode,
        py.priority,
        py.content_type,
        py.routing_key,
      ]);
      console.log(`task-sent ${line} v${String(protocol)}: ${JSON.stringify(node.body)}`);
    },
    60_000,
  );
});

describe.each([
  ['redis', 'redis://127.0.0.1:6379/0'],
  ['amqp', AMQP_URL],
])('task-sent events of a worker over %s (Celery 5.7)', (_name, broker) => {
  it('the chain step a TS worker publishes gets the task-sent event a Celery worker sends', async () => {
    const env = peerEnv({ broker, backend: 'redis://127.0.0.1:6379/0' });
    const pyQueue = uniq('cw-sent-py');
    const tsQueue = uniq('cw-sent-ts');
    const pyWorker = await whenPythonWorkerReady(
      spawn(
        python('5.7'),
        [
          '-m',
          'celery',
          '-A',
          'peer.sent_events',
          'worker',
          '-Q',
          pyQueue,
          '-P',
          'solo',
          '-n',
          `${uniq('py')}@%h`,
          '--without-gossip',
          '--without-mingle',
          '-l',
          'info',
        ],
        { cwd: PEERS, env, detached: true },
      ),
    );
    const tsWorker = await startWorker(
      { brokerUrl: broker, resultBackend: 'redis://127.0.0.1:6379/0', taskSendSentEvent: true },
      { queues: [tsQueue] },
    );
    // The producer sends no events of its own: only the workers' chain steps are captured.
    const app = createApp({
      brokerUrl: broker,
      resultBackend: 'redis://127.0.0.1:6379/0',
      env: {},
    });
    const cap = capture(env, '5.7', 2);
    try {
      await cap.ready;
      const ids: string[] = [];
      for (const queue of [pyQueue, tsQueue]) {
        const c = chain(
          signature('conformance.add', { args: [2, 3], options: { queue } }),
          signature('conformance.add', { args: [1], options: { queue } }),
        );
        const r = await applyCanvas(c, app);
        expect(await r.get({ timeout: 30 })).toBe(6);
        ids.push(r.id);
      }
      const events = await cap.done;
      const [py, ts] = ids.map((id) => events.find((e) => e.body.uuid === id));
      expect(py).toBeDefined();
      expect(ts).toBeDefined();
      if (!py || !ts) return;
      expect(ts.types).toEqual(py.types);
      for (const k of ['name', 'args', 'kwargs', 'retries', 'eta', 'expires', 'exchange', 'type'])
        expect([k, ts.body[k]]).toEqual([k, py.body[k]]);
      for (const [e, queue] of [
        [py, pyQueue],
        [ts, tsQueue],
      ] as const) {
        expect(e.body.hostname).toMatch(/^gen\d+@/); // anon_nodename(), not the worker's name
        expect([e.body.queue, e.body.routing_key]).toEqual([queue, queue]);
        expect(e.body.parent_id).toBe(e.body.root_id); // the first step
      }
      console.log(`worker task-sent: ${JSON.stringify(ts.body)}`);
    } finally {
      await app.close();
      await tsWorker.shutdown();
      await pyWorker.stop();
    }
  }, 90_000);
});
