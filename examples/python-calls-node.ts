/**
 * Python calls Node: TypeScript tasks served to Python Celery clients.
 *
 *   npm run build
 *   npx celery-wire worker --app examples/python-calls-node.ts -Q node -E &
 *   python-peers/.venv-5.7/bin/python examples/python-calls-node.py
 *
 * CELERY_BROKER_URL / CELERY_RESULT_BACKEND (default redis://127.0.0.1:6379/0) select the
 * broker and backend, as for Celery itself. A `.ts` app is loaded through tsx (npm install tsx).
 */
import {
  defineTask,
  PythonError,
  type CeleryConfig,
  type PyValue,
  type TaskContext,
} from 'celery-wire';

export const config: Partial<CeleryConfig> = {
  brokerUrl: process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
  resultBackend: process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
  acceptContent: ['json', 'msgpack'],
};

export const tasks = [
  // Positional-or-keyword parameters, like `def greet(name, punctuation='!')`.
  defineTask('node.greet', (name: string, punctuation: string) => `Hello, ${name}${punctuation}`, {
    params: ['name', 'punctuation'],
    defaults: { punctuation: '!' },
  }),
  // Raise a Python builtin: Python's .get() raises ValueError('negative: -1').
  defineTask(
    'node.sqrt',
    (x: PyValue) => {
      const n = Number(x);
      if (n < 0) throw new PythonError('ValueError', `negative: ${String(n)}`);
      return Math.sqrt(n);
    },
    { params: ['x'] },
  ),
  // A bound task (`bind=True`): retries itself, reports progress, honours its soft time limit.
  defineTask(
    'node.download',
    async (ctx: TaskContext, url: PyValue) => {
      await ctx.updateState('PROGRESS', { url, done: 0 });
      if (ctx.retries < 1) return ctx.retry({ countdown: 1 });
      await new Promise((r) => setTimeout(r, 100));
      return { url, bytes: 1234, attempts: ctx.retries + 1 };
    },
    { params: ['url'], bind: true, maxRetries: 3, softTimeLimit: 30, acksLate: true },
  ),
];
