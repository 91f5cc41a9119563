/**
 * Example: testing Node code that calls *Python* Celery tasks, with no broker at all.
 * Stand-ins are registered under the Python task names; the code under test is unchanged.
 * In an application the imports are `'celery-wire'` and `'celery-wire/testing'`; this copy runs
 * in the project's unit suite from the sources.
 */
import { applyCanvas, chain, createApp, defineTask, s, type CeleryApp } from 'celery-wire';
import { createTestApp, startWorker, type TestWorker } from 'celery-wire/testing';

// --- the code under test: it only knows the Python task names ------------------------------
async function orderTotal(app: CeleryApp, prices: number[]): Promise<number> {
  const r = await app.task<[number[]], number>('shop.tasks.total').delay(prices);
  return r.get({ timeout: 5 });
}

async function remindLater(app: CeleryApp, user: string): Promise<string> {
  const r = await app.sendTask('shop.tasks.remind', { args: [user], countdown: 3600 });
  return r.id;
}

// --- stand-ins for the Python tasks --------------------------------------------------------
const total = defineTask(
  'shop.tasks.total',
  (prices: number[]) => prices.reduce((a, b) => a + b, 0),
  { params: ['prices'] },
);
const withTax = defineTask('shop.tasks.with_tax', (amount: number) => amount * 1.2, {
  params: ['amount'],
});
const reminded: string[] = [];
const remind = defineTask(
  'shop.tasks.remind',
  (user: string) => {
    reminded.push(user);
    return `reminded ${user}`;
  },
  { params: ['user'] },
);

describe('eager mode (task_always_eager): calls run in process', () => {
  const app = createApp({ taskAlwaysEager: true, tasks: [total, withTax, remind] });

  it('runs the stand-in and returns an EagerResult', async () => {
    await expect(orderTotal(app, [10, 5])).resolves.toBe(15);
  });

  it('runs canvases eagerly too', async () => {
    const r = await applyCanvas(
      chain(s('shop.tasks.total', [[10, 5]]), s('shop.tasks.with_tax')),
      app,
    );
    expect(await r.get()).toBe(18);
  });
});

describe('memory broker: the real worker, in process', () => {
  const app = createTestApp({ tasks: [total, withTax, remind] });
  let worker: TestWorker;

  beforeAll(async () => {
    worker = await startWorker(app);
  });
  afterAll(async () => {
    await worker.stop();
    await app.close();
  });

  it('sends through memory:// and waits on the in-memory result backend', async () => {
    await expect(orderTotal(app, [1, 2, 3])).resolves.toBe(6);
  });

  it('countdown/ETA with jest fake timers', async () => {
    jest.useFakeTimers();
    try {
      const id = await remindLater(app, 'ada');
      await worker.idle();
      expect(await app.asyncResult(id).state).toBe('PENDING');
      await jest.advanceTimersByTimeAsync(3600 * 1000);
      await worker.idle();
      expect(await app.asyncResult(id).get()).toBe('reminded ada');
      expect(reminded).toEqual(['ada']);
    } finally {
      jest.useRealTimers();
    }
  });
});
