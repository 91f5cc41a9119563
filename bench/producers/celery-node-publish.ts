import { Redis } from 'ioredis';

/**
 * celery-node 0.5.9's client as its README calls it (`createClient`, `createTask(name)`,
 * `applyAsync(args)` in a loop), in its own process, Redis broker and backend:
 *   celery-node-publish.ts BROKER BACKEND QUEUE N  →  {"rate": tasks/s}
 * `applyAsync` returns before the message is written, so the end is LLEN = N.
 */
interface CeleryNodeClient {
  createTask(name: string): { applyAsync(args: unknown[]): unknown };
  disconnect(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const celery = require('../celery-node/node_modules/celery-node') as {
  createClient(broker: string, backend: string, queue: string): CeleryNodeClient;
};

async function main(): Promise<void> {
  const [brokerUrl = '', backendUrl = '', queue = 'bench', count = '20000'] = process.argv.slice(2);
  const n = Number(count);
  const redis = new Redis(brokerUrl);
  const client = celery.createClient(brokerUrl, backendUrl, queue);
  const task = client.createTask('conformance.add');
  const until = async (len: number): Promise<void> => {
    while ((await redis.llen(queue)) < len) await new Promise((r) => setTimeout(r, 1));
  };
  const warm = 2000;
  for (let i = 0; i < warm; i++) task.applyAsync([i, i]);
  await until(warm);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) task.applyAsync([i, i]);
  await until(warm + n);
  const rate = n / ((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  const cpuUs = (c.user + c.system) / n;
  process.stdout.write(`${JSON.stringify({ rate, cpuUs })}\n`);
  redis.disconnect();
  await client.disconnect().catch(() => undefined);
  process.exit(0);
}

void main();
