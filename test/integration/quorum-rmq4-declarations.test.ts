import { createApp } from '../../src/app/app';
import type { CeleryLine } from '../../src/config/config';
import { defineTask } from '../../src/worker/task';
import type { Worker } from '../../src/worker/worker';
import {
  queueShapes,
  startDeclarePeer,
  startDeclareWorker,
  waitForQueues,
  type QueueShape,
} from '../support/quorum/declarations';
import { createVhost } from '../support/quorum/estate';

/**
 * Issue 9 (4), RabbitMQ 4 readiness per line: every queue celery-wire declares for remote
 * control (worker pidbox, the client's reply queue, `revoke()`), events (a receiver) and the rpc
 * backend (the client's reply queue) is declared as the same line's Celery declares it, row for
 * row in `rabbitmqctl list_queues name durable auto_delete exclusive arguments` on this broker.
 * RabbitMQ 4.3 refuses transient (non-durable) non-exclusive queues by default
 * (`transient_nonexcl_queues` deprecated feature): on the 5.7 profile none may exist.
 */
const NODE = 'declare@qr4';
const WANT = [
  'celery',
  'declare-nobody',
  `${NODE}.celery.pidbox`,
  '<id>.reply.celery.pidbox',
  'celeryev.<id>',
  '<id>',
];

const transientNonExclusive = (rows: readonly QueueShape[]): QueueShape[] =>
  rows.filter((r) => r.durable === 'false' && r.exclusive === 'false');

async function pythonEstate(line: CeleryLine): Promise<QueueShape[]> {
  const vhost = await createVhost(`rmq4-${line}-py`);
  const worker = await startDeclareWorker(line, vhost.url, NODE);
  try {
    const peer = await startDeclarePeer(line, vhost.url);
    let rows: QueueShape[];
    try {
      rows = await waitForQueues(vhost.name, WANT);
    } finally {
      await peer.stop();
    }
    // celery-wire's exchange-only revoke reaches the Python worker of the line too.
    const app = createApp({ brokerUrl: vhost.url, celeryLine: line });
    try {
      await app.revoke('11111111-1111-1111-1111-111111111111');
      const revoked = await app.control.inspect({ timeout: 2 }).revoked();
      expect(revoked?.[NODE]).toContain('11111111-1111-1111-1111-111111111111');
    } finally {
      await app.close();
    }
    return rows;
  } finally {
    await worker.stop();
    await vhost.drop();
  }
}

async function tsEstate(line: CeleryLine): Promise<QueueShape[]> {
  const vhost = await createVhost(`rmq4-${line}-ts`);
  const config = { brokerUrl: vhost.url, resultBackend: 'rpc://', celeryLine: line };
  const app = createApp(config);
  const workerApp = createApp({
    ...config,
    tasks: [defineTask('declare_peer.nothing', () => null)],
  });
  let worker: Worker | undefined;
  try {
    worker = workerApp.worker({ hostname: NODE, logger: { log: () => undefined } });
    await worker.start();
    await app.revoke('00000000-0000-0000-0000-000000000000');
    // The exchange-only revoke still reaches the worker.
    expect(await app.control.inspect({ timeout: 1 }).revoked()).toEqual({
      [NODE]: ['00000000-0000-0000-0000-000000000000'],
    });
    const receiver = await app.eventReceiver();
    try {
      const r = await app.sendTask('declare_peer.nothing', { queue: 'declare-nobody' });
      await r.get({ timeout: 0.5 }).catch(() => undefined);
      return await waitForQueues(vhost.name, WANT);
    } finally {
      await receiver.close();
    }
  } finally {
    await worker?.shutdown();
    await app.close();
    await workerApp.close();
    await vhost.drop();
  }
}

describe.each<CeleryLine>(['5.7', '5.6', '5.2'])(
  'Celery %s: queues declared for control, events and rpc',
  (line) => {
    test('celery-wire declares the same queues, with the same flags and arguments, as Celery', async () => {
      let py = await pythonEstate(line);
      const ts = await tsEstate(line);
      if (line === '5.7') {
        // Known difference, worker side: Celery 5.7's `revoke` handler asks the backend for the
        // task's state first (`celery/worker/control.py`, `_revoke`: `backend.get_state`), and
        // the rpc backend's `_slurp_from_queue` declares the *worker's* own reply queue (durable,
        // no consumer) to do it. Durable, so RabbitMQ 4 accepts it; the TS worker reads no queue.
        const workerReply = {
          name: '<id>',
          durable: 'true',
          auto_delete: 'true',
          exclusive: 'false',
          arguments: '[{"x-expires",86400000}]',
        };
        expect(py.filter((r) => r.name === '<id>')).toEqual([workerReply, workerReply]);
        // One of the two is the client's reply queue, which is compared with ours.
        py = [...py.filter((r) => r.name !== '<id>'), workerReply].sort((a, b) =>
          a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
        );
      }
      expect(py.map((r) => r.name)).toEqual([...WANT].sort());
      expect(ts).toEqual(py);
      if (line === '5.7') {
        expect(transientNonExclusive(ts)).toEqual([]);
      } else {
        // Before 5.7 the reply and event queues are transient and shared-able: what 4.3 refuses.
        expect(transientNonExclusive(ts).length).toBeGreaterThan(0);
      }
    }, 240_000);
  },
);

test('celery-wire revoke() declares no queue at all (kombu declares only the pidbox exchange)', async () => {
  const vhost = await createVhost('rmq4-revoke');
  const app = createApp({ brokerUrl: vhost.url, celeryLine: '5.7' });
  try {
    await app.revoke('00000000-0000-0000-0000-000000000000');
    expect(await queueShapes(vhost.name)).toEqual([]);
  } finally {
    await app.close();
    await vhost.drop();
  }
}, 60_000);
