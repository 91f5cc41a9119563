/**
 * A chain that crosses languages: Python adds, Node multiplies, Python adds again; then a chord
 * whose header runs on both sides and whose body Python sums.
 *
 *   bash python-peers/bootstrap.sh && npm run build
 *   export CELERY_BROKER_URL=redis://127.0.0.1:6379/0 CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/0
 *   PY_QUEUES=py bash python-peers/worker.sh &                                   # Python worker
 *   npx celery-wire worker --app conformance/app/index.ts -Q ts &           # Node worker
 *   npx tsx examples/mixed-chain.ts
 *
 * The same chain started from Python: `python-peers/.venv-5.7/bin/python examples/mixed-chain.py`.
 * Another broker (e.g. amqp://guest:guest@127.0.0.1:5672//) works the same; the result backend
 * must be Redis (chords need its native join).
 */
import {
  applyCanvas,
  chain,
  chord,
  createApp,
  pyJsonDumps,
  signature,
  type CanvasTaskResult,
  type PyValue,
} from 'celery-wire';

const on = (queue: string, name: string, ...args: PyValue[]) =>
  signature(`conformance.${name}`, { args, options: { queue } });

async function main(): Promise<void> {
  const app = createApp({
    brokerUrl: process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
    resultBackend: process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
  });
  try {
    // ((2 + 3) * 4) + 1: step 1 and 3 on Python, step 2 on Node.
    const flow = chain(on('py', 'add', 2, 3), on('ts', 'mul', 4), on('py', 'add', 1));
    const res = (await applyCanvas(flow, app)) as CanvasTaskResult;
    console.log('chain result =', await res.get({ timeout: 30 }));
    const steps: string[] = [];
    for (let r: CanvasTaskResult | null = res; r; r = r.parent as CanvasTaskResult | null) {
      steps.unshift(`${r.id} = ${pyJsonDumps(await r.get({ timeout: 30 }))}`);
    }
    console.log('steps (first to last):\n  ' + steps.join('\n  '));

    // Header on both sides, body on Python: sum([1+1, 2*3, 4+4]).
    const c = chord(
      [on('py', 'add', 1, 1), on('ts', 'mul', 2, 3), on('ts', 'add', 4, 4)],
      on('py', 'tsum'),
    );
    const total = (await applyCanvas(c, app)) as CanvasTaskResult;
    console.log('chord result =', await total.get({ timeout: 30 }));
  } finally {
    await app.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
