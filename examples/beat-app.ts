/**
 * A beat app: `npx celery-wire beat -A examples/beat-app.ts -S redbeat` sends `conformance.add`
 * every 2 s to the `py` queue (a Python worker: `PY_QUEUES=py bash python-peers/worker.sh`).
 */
import { crontab, every, type CeleryConfig } from 'celery-wire';

export const config: Partial<CeleryConfig> = {
  brokerUrl: process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
  resultBackend: process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
  redbeatRedisUrl: process.env.REDBEAT_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  redbeatKeyPrefix: process.env.REDBEAT_KEY_PREFIX ?? 'redbeat:',
  beatMaxLoopInterval: 1,
  beatSchedule: {
    'add-every-2s': {
      task: 'conformance.add',
      schedule: every(2),
      args: [2, 3],
      options: { queue: process.env.BEAT_QUEUE ?? 'py' },
    },
    'add-each-minute': {
      task: 'conformance.add',
      schedule: crontab({ minute: '*' }),
      args: [40, 2],
      options: { queue: process.env.BEAT_QUEUE ?? 'py' },
    },
  },
};
