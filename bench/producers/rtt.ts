import { createApp } from '../../src/app/app';

/**
 * Round trip as an application sees it: `await (await add.delay(i, 1)).get()`, one at a time,
 * against whichever worker serves QUEUE:
 *   rtt.ts BROKER BACKEND QUEUE N  →  {"p50_ms", "p99_ms"}
 */
async function main(): Promise<void> {
  const [brokerUrl = '', backendUrl = '', queue = 'bench', count = '2000'] = process.argv.slice(2);
  const n = Number(count);
  const app = createApp({ env: {}, brokerUrl, resultBackend: backendUrl, taskDefaultQueue: queue });
  try {
    const add = app.task<[number, number], number>('conformance.add');
    for (let i = 0; i < 200; i++) await (await add.delay(i, 0)).get({ timeout: 60 });
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await (await add.delay(i, 1)).get({ timeout: 30 });
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number): number => samples[Math.min(n - 1, Math.floor(n * q))] ?? NaN;
    process.stdout.write(`${JSON.stringify({ p50_ms: at(0.5), p99_ms: at(0.99) })}\n`);
  } finally {
    await app.close();
  }
}

void main();
