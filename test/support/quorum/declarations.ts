import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CeleryLine } from '../../../src/config/config';
import { whenPythonWorkerReady, type PythonWorkerProcess } from '../python-worker-process';
import { ROOT, python } from '../worker/int-helpers';
import { queueRows } from './estate';

/**
 * Issue 9 (RabbitMQ 4 readiness): the queues a Celery client and worker of a line declare for
 * remote control, events and the rpc backend, as `rabbitmqctl list_queues` shows them while they
 * exist, with the generated parts of their names (uuids, oids) replaced by `<id>`.
 */
const DIR = join(ROOT, 'test', 'support', 'quorum');
const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** One `list_queues` row, name normalised. */
export interface QueueShape {
  name: string;
  durable: string;
  auto_delete: string;
  exclusive: string;
  arguments: string;
}

/** The rows of `vhost`, names normalised, sorted by name. */
export async function queueShapes(vhost: string): Promise<QueueShape[]> {
  return (await queueRows(vhost))
    .map((r) => ({ ...r, name: r.name.replace(ID, '<id>') }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Poll `vhost` until `want` queue names (normalised) are all declared, then return its rows. */
export async function waitForQueues(vhost: string, want: readonly string[]): Promise<QueueShape[]> {
  let rows: QueueShape[] = [];
  for (let i = 0; i < 60; i++) {
    rows = await queueShapes(vhost);
    if (want.every((n) => rows.some((r) => r.name === n))) return rows;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`queues ${want.join(', ')} not declared; have ${JSON.stringify(rows)}`);
}

/** `declare_peer.py` of `line`: it has done its operations once `ready` resolves. */
export function startDeclarePeer(
  line: CeleryLine,
  url: string,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(python(line), [join(DIR, 'declare_peer.py')], {
    cwd: DIR,
    env: { ...process.env, CELERY_BROKER_URL: url },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      r();
    }),
  );
  return new Promise((res, rej) => {
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('{"ready": true}')) {
        res({
          stop: async () => {
            child.stdin.end();
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => {
      rej(new Error(`declare_peer exited (${String(code)}): ${out}`));
    });
  });
}

/** A Python worker of `line` on `url` (the declare_peer app) named `node`, as users start one. */
export function startDeclareWorker(
  line: CeleryLine,
  url: string,
  node: string,
): Promise<PythonWorkerProcess> {
  const child = spawn(
    python(line),
    [
      '-m',
      'celery',
      '-A',
      'declare_peer',
      'worker',
      '-n',
      node,
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '-P',
      'solo',
      '-l',
      'info',
    ],
    {
      cwd: DIR,
      env: { ...process.env, CELERY_BROKER_URL: url },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  return whenPythonWorkerReady(child);
}
