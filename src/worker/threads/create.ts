import { resolve } from 'node:path';
import type { CeleryConfig } from '../../config/config';
import type { TaskRegistry } from '../task';
import type { WorkerLogger } from '../worker-env';
import { ThreadPool } from './thread-pool';

/**
 * The worker's thread pool, when it needs one: `-P prefork`, or any task asking for
 * `pool: 'prefork'`. Needs the app module's path (each thread loads it to find the handlers).
 */
export function createThreadPool(
  registry: TaskRegistry,
  config: CeleryConfig,
  opts: { pool?: 'prefork' | 'solo' | 'threads'; appModule?: string; concurrency?: number },
  logger: WorkerLogger,
): ThreadPool | null {
  const pool = opts.pool ?? config.workerPool ?? 'solo';
  const perTask = registry.names().some((n) => registry.get(n)?.options.pool === 'prefork');
  if (pool !== 'prefork' && !perTask) return null;
  if (opts.appModule === undefined) {
    if (pool !== 'prefork') return null;
    throw new Error('the prefork pool needs the app module path (appModule / -A): threads load it');
  }
  const auto = config.workerAutoscaler ?? null;
  return new ThreadPool({
    appPath: resolve(opts.appModule),
    concurrency: auto ? auto.max : Math.max(1, opts.concurrency ?? 1),
    maxTasksPerChild: config.workerMaxTasksPerChild ?? null,
    maxMemoryPerChild: config.workerMaxMemoryPerChild ?? null,
    timeouts: [config.taskSoftTimeLimit ?? 0, config.taskTimeLimit ?? 0],
    autoscale: auto ? [auto.max, auto.min] : null,
    defaultPool: pool,
    log: (l, m) => {
      logger.log(l, m);
    },
  });
}
