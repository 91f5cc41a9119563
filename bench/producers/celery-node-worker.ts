/**
 * celery-node 0.5.9's worker as its README starts one (`createWorker(broker, backend, queue)`,
 * `register`, `start`), serving `conformance.add`. Installed in bench/node_modules only.
 */
interface CeleryNodeWorker {
  register(name: string, handler: (...args: number[]) => unknown): void;
  start(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const celery = require('../celery-node/node_modules/celery-node') as {
  createWorker(broker: string, backend: string, queue: string): CeleryNodeWorker;
};

const worker = celery.createWorker(
  process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
  process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
  process.argv[2] ?? 'celery',
);
worker.register('conformance.add', (x, y) => x + y);
void worker.start();
