import { Redis } from 'ioredis';
import { createApp } from '../../src/app/app';

/**
 * celery-wire's client as an application calls it, in its own process:
 *   publish.ts MODE BROKER BACKEND QUEUE N  →  {"rate": tasks/s}
 * MODE `loop`: `sendTask` N times in a loop, awaited together (Promise.all);
 * `await`: each `sendTask` awaited before the next; `many`: `sendMany` in chunks of 5,000.
 * Timed until every promise resolved (Redis: written; RabbitMQ: confirmed) and, on Redis, LLEN
 * shows them all — the same end as celery-node's row, whose `applyAsync` returns before sending.
 */
async function main(): Promise<void> {
  const [mode = 'loop', brokerUrl = '', backend = 'disabled', queue = 'bench', count = '20000'] =
    process.argv.slice(2);
  const n = Number(count);
  const app = createApp({ env: {}, brokerUrl, resultBackend: backend, taskDefaultQueue: queue });
  const redis = brokerUrl.startsWith('redis') ? new Redis(brokerUrl) : undefined;
  const send = async (from: number, k: number): Promise<void> => {
    if (mode === 'many') {
      for (let i = from; i < from + k; i += 5000) {
        const calls = [];
        for (let j = i; j < Math.min(from + k, i + 5000); j++) {
          calls.push({ name: 'conformance.add', opts: { args: [j, j] } });
        }
        await app.client.sendMany(calls);
      }
    } else if (mode === 'await') {
      for (let i = from; i < from + k; i++) await app.sendTask('conformance.add', { args: [i, i] });
    } else {
      const all = [];
      for (let i = from; i < from + k; i++)
        all.push(app.sendTask('conformance.add', { args: [i, i] }));
      await Promise.all(all);
    }
  };
  try {
    const warm = 2000;
    await send(0, warm); // connect, declare, JIT
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await send(warm, n);
    while (redis && (await redis.llen(queue)) < warm + n)
      await new Promise((r) => setTimeout(r, 1));
    const rate = n / ((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    const cpuUs = (c.user + c.system) / n;
    process.stdout.write(`${JSON.stringify({ rate, cpuUs })}\n`);
  } finally {
    await app.close();
    redis?.disconnect();
  }
}

void main();
