import type { CeleryConfig } from 'celery-wire';
import { tasks } from './pool-app';

/**
 * pool-app.ts's tasks with `worker_pool_restarts` on, for test/integration/flower.test.ts (the
 * Python control worker's `flower_app.py` turns it on too): Flower's "Restart pool" needs it.
 */
export { tasks };
export const config: Partial<CeleryConfig> = { workerPoolRestarts: true };
