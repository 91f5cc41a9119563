/**
 * Type-level tests of the public API, checked by `npm run typecheck` (this file is in
 * tsconfig.json's include and never runs). Every `@ts-expect-error` must be an error, so a
 * loosened type fails the typecheck just as a tightened one does.
 */
import {
  createApp,
  defineTask,
  PyFloat,
  TaskFailedError,
  type AsyncResult,
  type CeleryConfig,
  type PyValue,
  type TaskHandle,
} from 'celery-wire';
import { decodeTaskMessage, pyJsonDumps, type DecodedTask } from 'celery-wire/wire';

/* eslint-disable @typescript-eslint/no-unnecessary-type-parameters -- the standard type-equality idiom */
type Equal<X, Y> =
  (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T | undefined => undefined;
/* eslint-enable @typescript-eslint/no-unnecessary-type-parameters */
/** Uses values so that the checks above stay in the program. */
const keep = (..._values: unknown[]): number => _values.length;

export async function typeTests(): Promise<void> {
  const app = createApp({ brokerUrl: 'redis://127.0.0.1:6379/0', resultBackend: 'disabled' });

  // Settings are Celery's names in camelCase, with Celery's value types.
  const config: Partial<CeleryConfig> = { taskSerializer: 'json', taskProtocol: 2 };
  // @ts-expect-error task_protocol is 1 or 2
  const badProtocol: Partial<CeleryConfig> = { taskProtocol: 3 };
  // @ts-expect-error snake_case setting names are not accepted
  createApp({ broker_url: 'redis://' });

  // A typed handle checks arguments and carries the result type.
  const add: TaskHandle<[number, number], number> = app.task<[number, number], number>('proj.add');
  const r = await add.delay(1, 2);
  assertType<Equal<typeof r, AsyncResult<number>>>();
  const n: number = await r.get({ timeout: 1 });
  // @ts-expect-error wrong argument type
  await add.delay('1', 2);
  // @ts-expect-error wrong arity
  await add.delay(1);

  // sendTask takes every apply_async option camelCased.
  await app.sendTask('proj.echo', {
    args: [1n, new PyFloat(1)],
    kwargs: { x: null },
    countdown: 1,
    priority: 5,
    serializer: 'msgpack',
  });
  // @ts-expect-error snake_case option names are not accepted
  await app.sendTask('proj.echo', { routing_key: 'x' });

  // Worker tasks.
  const t = defineTask('node.sq', (x: PyValue) => Number(x) ** 2, {
    params: ['x'],
    acksLate: true,
  });
  // @ts-expect-error unknown task option
  defineTask('node.sq', (x: PyValue) => x, { acks_late: true });

  // Errors are typed.
  const e: unknown = undefined;
  if (e instanceof TaskFailedError) {
    const excType: string = e.excType;
    keep(excType);
  }

  // The wire subpath.
  const s: string = pyJsonDumps({ a: [1, 2n] });
  const decode: (...a: Parameters<typeof decodeTaskMessage>) => DecodedTask = decodeTaskMessage;
  keep(config, badProtocol, n, t, s, decode);
}
