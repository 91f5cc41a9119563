/**
 * Node calls Python: send tasks to a real Celery worker and wait for the results.
 *
 *   bash python-peers/bootstrap.sh && npm run build
 *   PY_QUEUES=py bash python-peers/worker.sh &            # Redis broker + backend by default
 *   npx tsx examples/node-calls-python.ts
 *
 * CELERY_BROKER_URL / CELERY_RESULT_BACKEND select other brokers (e.g. amqp://… with rpc://).
 */
import { createApp, TaskFailedError } from 'celery-wire';

async function main(): Promise<void> {
  const app = createApp({
    brokerUrl: process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
    resultBackend: process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
    taskDefaultQueue: 'py',
  });
  try {
    // A typed handle, like a Python task object.
    const add = app.task<[bigint | number, number], bigint | number>('conformance.add');
    const sum = await (await add.delay(2n ** 70n, 1)).get({ timeout: 10 });
    console.log('add(2**70, 1) =', sum.toString());

    // Every apply_async option, camelCased.
    const r = await app.sendTask('conformance.echo', {
      args: ['héllo ☃'],
      kwargs: { n: 3 },
      countdown: 1,
      serializer: 'msgpack',
      headers: { 'x-origin': 'node' },
    });
    console.log('echo =', await r.get({ timeout: 10 }));

    // Python exceptions come back typed.
    try {
      await (
        await app.sendTask('conformance.fail', {
          kwargs: { exc_type: 'ValueError', message: 'nope' },
        })
      ).get({ timeout: 10 });
    } catch (e) {
      if (!(e instanceof TaskFailedError)) throw e;
      console.log('fail →', e.message, `(${e.excModule ?? '?'}.${e.excType})`);
    }
  } finally {
    await app.close();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
