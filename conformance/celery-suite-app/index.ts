import { appendFileSync } from 'node:fs';
import {
  applyCanvas,
  chain,
  chord,
  group,
  PythonError,
  Reject,
  s,
  si,
  signature,
  type CeleryConfig,
  type PyValue,
  type TaskContext,
  type TaskDefinition,
  defineTask,
} from 'celery-wire';
import { pyAdd, pyMul, pySum } from '../app/pyops';
import { sleepFor } from './sleep';
import {
  P,
  type Kw,
  conn,
  client,
  expected,
  pyStr,
  task,
  bound,
  add,
  isList,
  addSig,
  redisEcho,
  redisCount,
  splitVar,
  attempts,
  replaceWithChainBase,
  secondOrder,
  rebuild,
  nested,
  autoRetry,
} from './support';

/**
 * Celery 5.7's `t/integration/tasks.py` in TypeScript: the same task names and behaviour, so
 * Celery's own `t/integration` tests run against `celery-wire worker` (see
 * `python-peers/celery-suite/`). Control commands the module registers
 * (`pidbox_reset_error`, …) and `pydantic=True` model validation are Python-only.
 */
export const tasks: TaskDefinition[] = [
  task('identity', (x: PyValue) => x, { params: ['x'] }),
  task('add', add, { params: ['x', 'y', 'z'], defaults: { z: null } }),
  task('mul', (x: PyValue, y: PyValue) => pyMul(x, y), { params: ['x', 'y'] }),
  task(
    'write_to_file_and_return_int',
    (file: PyValue, i: PyValue) => {
      appendFileSync(pyStr(file), `${pyStr(i)}\n`);
      return i;
    },
    { params: ['file_name', 'i'] },
  ),
  task('add_not_typed', (x: PyValue, y: PyValue) => pyAdd(x, y), { params: ['x', 'y'] }),
  task('add_ignore_result', (x: PyValue, y: PyValue) => pyAdd(x, y), {
    params: ['x', 'y'],
    ignoreResult: true,
  }),
  task('add_with_result', (x: PyValue, y: PyValue) => pyAdd(x, y), {
    params: ['x', 'y'],
    ignoreResult: false,
  }),
  task('raise_error', () => {
    throw new PythonError('ValueError', 'deliberate error');
  }),
  task(
    'chain_add',
    async (x: PyValue, y: PyValue) => {
      await applyCanvas(chain(addSig(x, x), addSig(y)), client());
      return null;
    },
    { params: ['x', 'y'] },
  ),
  task(
    'chord_add',
    async (x: PyValue, y: PyValue) => {
      await applyCanvas(chord([addSig(x, x)], addSig(y)), client());
      return null;
    },
    { params: ['x', 'y'] },
  ),
  bound(
    'delayed_sum',
    ['numbers', 'pause_time'],
    async (ctx: TaskContext, numbers: PyValue, pause: PyValue) => {
      await sleepFor(Number(pause), ctx.signal);
      return pySum(numbers);
    },
    { defaults: { pause_time: 1 } },
  ),
  bound(
    'delayed_sum_with_soft_guard',
    ['numbers', 'pause_time'],
    async (ctx: TaskContext, numbers: PyValue, pause: PyValue) => {
      try {
        await sleepFor(Number(pause), ctx.signal);
      } catch (e) {
        if (e instanceof PythonError && e.excType === 'SoftTimeLimitExceeded') return 0;
        throw e;
      }
      return pySum(numbers);
    },
    { defaults: { pause_time: 1 } },
  ),
  task('tsum', (nums: PyValue) => pySum(nums), { params: ['nums'] }),
  task(
    'xsum',
    (nums: PyValue) => pySum((nums as PyValue[]).map((n) => (isList(n) ? pySum(n) : n))),
    { params: ['nums'] },
  ),
  bound('sum_and_record', ['values', 'redis_key'], async (ctx, values: PyValue, key: PyValue) => {
    const result = pySum(values);
    await conn().rpush(pyStr(key), ctx.id);
    return result;
  }),
  bound('add_replaced', ['x', 'y'], (ctx, x: PyValue, y: PyValue) => ctx.replace(addSig(x, y))),
  bound(
    'record_replaced_task_nesting',
    ['replacements', 'nesting'],
    (ctx, replacements: PyValue, nesting: PyValue) => {
      const list = isList(nesting) ? [...nesting] : [];
      list.push(ctx.replacedTaskNesting);
      if (replacements) {
        const next = s(P + 'record_replaced_task_nesting', [Number(replacements) - 1, list]);
        return ctx.replace(next.set({ reply_to: ctx.replyTo }));
      }
      return list;
    },
    { defaults: { nesting: null } },
  ),
  bound('add_replaced_with_chain', ['x', 'y'], (ctx, x: PyValue, y: PyValue) =>
    ctx.replace(chain(addSig(x, y), s(P + 'identity'))),
  ),
  defineTask(P + 'replace_with_chain', replaceWithChainBase(false), { bind: true }),
  defineTask(P + 'replace_with_chain_which_raises', replaceWithChainBase(true), { bind: true }),
  defineTask(P + 'replace_with_empty_chain', (ctx: TaskContext) => ctx.replace(chain()), {
    bind: true,
  }),
  bound('replace_with_chain_which_contains_a_group', [], (ctx) =>
    ctx.replace(chain(addSig(1, 2), group(addSig(1), addSig(1)))),
  ),
  bound('add_to_all', ['nums', 'val'], (ctx, nums: PyValue, val: PyValue) =>
    ctx.replace(group(...(nums as PyValue[]).map((n) => addSig(n, val)))),
  ),
  bound('add_to_all_to_chord', ['nums', 'val'], async (ctx, nums: PyValue, val: PyValue) => {
    for (const n of nums as PyValue[]) await ctx.addToChord(addSig(n, val));
    return 0;
  }),
  bound('add_chord_to_chord', ['nums', 'val'], async (ctx, nums: PyValue, val: PyValue) => {
    const subtasks = (nums as PyValue[]).map((n) => addSig(n, val));
    await ctx.addToChord(chain(group(...subtasks), s(P + 'tsum')));
    return 0;
  }),
  task(
    'print_unicode',
    (log: PyValue, msg: PyValue) => {
      process.stderr.write(`${pyStr(log)}\n`);
      process.stdout.write(`${pyStr(msg)}\n`);
      return null;
    },
    {
      params: ['log_message', 'print_message'],
      defaults: { log_message: 'håå®ƒ valmuefrø', print_message: 'hiöäüß' },
    },
  ),
  task('return_exception', (e: PyValue) => [e, true], { params: ['e'] }),
  defineTask(
    P + 'sleeping',
    async (ctx: TaskContext, i: PyValue) => {
      await sleepFor(Number(i), ctx.signal);
      return null;
    },
    { bind: true, params: ['i'], varKwargs: true },
  ),
  bound('ids', ['i'], (ctx, i: PyValue) => [ctx.rootId, ctx.parentId, i]),
  bound('collect_ids', ['res', 'i'], (ctx, res: PyValue, i: PyValue) => [
    res,
    [ctx.rootId, ctx.parentId, i],
  ]),
  bound(
    'retry',
    ['return_value'],
    (ctx, rv: PyValue) => {
      if (rv !== null && rv !== false && rv !== '' && rv !== 0) {
        // `self.attempt` lives on the task instance, one per worker process.
        if (attempts.retry >= 3) {
          attempts.retry = 0;
          return rv;
        }
        attempts.retry += 1;
      }
      return ctx.retry({ exc: expected(), countdown: 5 });
    },
    { defaults: { return_value: null }, defaultRetryDelay: 1 },
  ),
  defineTask(
    P + 'retry_unpickleable',
    (ctx: TaskContext, foo: PyValue, _bar: PyValue, kw: Kw) => {
      const rk = (kw.retry_kwargs ?? {}) as Kw;
      const exc = new PythonError('UnpickleableException', pyStr(foo), {
        excModule: 't.integration.tasks',
        args: [foo],
      });
      return ctx.retry({
        exc,
        ...(typeof rk.countdown === 'number' ? { countdown: rk.countdown } : {}),
        ...('max_retries' in rk ? { maxRetries: rk.max_retries as number | null } : {}),
      });
    },
    { bind: true, defaultRetryDelay: 1 },
  ),
  bound(
    'retry_with_args_after_kwargs',
    ['foo', 'bar', 'label'],
    (ctx, foo: PyValue, bar: PyValue, label: PyValue) => {
      if (!ctx.retries) return ctx.retry({ args: [pyAdd(foo, 1), pyAdd(bar, 1)], countdown: 0 });
      return { foo, bar, label, retries: ctx.retries, is_eager: false };
    },
    { defaults: { label: null }, maxRetries: 1 },
  ),
  bound(
    'retry_with_kwargs_after_args',
    ['foo', 'bar'],
    (ctx, foo: PyValue, bar: PyValue) => {
      if (!ctx.retries) return ctx.retry({ kwargs: { foo: pyAdd(foo, 1) }, countdown: 0 });
      return { foo, bar, retries: ctx.retries, is_eager: false };
    },
    { maxRetries: 1 },
  ),
  defineTask(
    P + 'retry_once',
    (ctx: TaskContext, ...all: PyValue[]) => {
      const { kw } = splitVar(all);
      if (ctx.retries) return ctx.retries;
      const expires = kw.expires ?? null;
      const countdown = kw.countdown === undefined ? 0.1 : kw.countdown;
      return ctx.retry({
        ...(typeof countdown === 'number' ? { countdown } : {}),
        expires: typeof expires === 'number' || typeof expires === 'string' ? expires : null,
        maxRetries: kw.max_retries === undefined ? 1 : (kw.max_retries as number | null),
      });
    },
    { bind: true, maxRetries: 1 },
  ),
  bound(
    'retry_once_ignore_result',
    [],
    (ctx) => (ctx.retries ? ctx.retries : ctx.retry({ countdown: 0 })),
    { ignoreResult: true },
  ),
  bound(
    'retry_once_with_result',
    [],
    (ctx) => (ctx.retries ? ctx.retries : ctx.retry({ countdown: 0 })),
    { ignoreResult: false },
  ),
  defineTask(
    P + 'retry_once_priority',
    (ctx: TaskContext) =>
      ctx.retries
        ? (ctx.deliveryInfo.priority ?? null)
        : ctx.retry({ countdown: 0.1, maxRetries: 1 }),
    { bind: true, maxRetries: 1 },
  ),
  defineTask(
    P + 'retry_once_headers',
    (ctx: TaskContext) =>
      ctx.retries ? ctx.headers : ctx.retry({ countdown: 0.1, maxRetries: 1 }),
    { bind: true, maxRetries: 1 },
  ),
  task('redis_echo', redisEcho, {
    params: ['message', 'redis_key'],
    defaults: { redis_key: 'redis-echo' },
  }),
  bound(
    'redis_echo_group_id',
    ['_', 'redis_key'],
    async (ctx, _x: PyValue, key: PyValue) => {
      await conn().rpush(pyStr(key), pyStr(ctx.group));
      return null;
    },
    { defaults: { redis_key: 'redis-group-ids' } },
  ),
  task('redis_count', redisCount, {
    params: ['redis_key'],
    defaults: { redis_key: 'redis-count' },
  }),
  bound('second_order_replace1', ['state'], (ctx, st: PyValue) => secondOrder(ctx, st, 'A'), {
    defaults: { state: false },
  }),
  bound('second_order_replace2', ['state'], (ctx, st: PyValue) => secondOrder(ctx, st, 'B'), {
    defaults: { state: false },
  }),
  task('build_chain_inside_task', async () => {
    const c = chain(addSig(1, 1), addSig(2), group(addSig(3), addSig(4)), addSig(5));
    // A returned AsyncResult is stored as `as_tuple()` (`Backend.prepare_value`).
    const r = await applyCanvas(c, client());
    return r.asTuple();
  }),
  task('fail', (...all: PyValue[]) => {
    throw expected('Task expected to fail', ...all.slice(0, -1));
  }),
  task(
    'fail_unpickleable',
    (foo: PyValue) => {
      throw new PythonError('UnpickleableException', pyStr(foo), {
        excModule: 't.integration.tasks',
        args: [foo],
      });
    },
    { params: ['foo', 'bar'] },
  ),
  defineTask(
    P + 'fail_replaced',
    (ctx: TaskContext, ...all: PyValue[]) => ctx.replace(si(P + 'fail', all.slice(0, -1))),
    { bind: true },
  ),
  defineTask(
    P + 'return_priority',
    (ctx: TaskContext) => `Priority: ${pyStr(ctx.deliveryInfo.priority ?? null)}`,
    { bind: true },
  ),
  bound('return_request_eta', [], (ctx) => ctx.eta),
  bound('return_properties', [], (ctx) => ({ ...ctx.properties })),
  defineTask('auto_retry_class_task', autoRetry, { bind: true, params: [], maxRetries: 1 }),
  task(
    'return_nested_signature_chain_chain',
    nested(() => chain(chain(s(P + 'add')))),
  ),
  task(
    'return_nested_signature_chain_group',
    nested(() => chain(group(s(P + 'add')))),
  ),
  task(
    'return_nested_signature_chain_chord',
    nested(() => chain(chord([s(P + 'add')], s(P + 'add')))),
  ),
  task(
    'return_nested_signature_group_chain',
    nested(() => group(chain(s(P + 'add')))),
  ),
  task(
    'return_nested_signature_group_group',
    nested(() => group(group(s(P + 'add')))),
  ),
  task(
    'return_nested_signature_group_chord',
    nested(() => group(chord([s(P + 'add')], s(P + 'add')))),
  ),
  task(
    'return_nested_signature_chord_chain',
    nested(() => chord([chain(s(P + 'add'))], s(P + 'add'))),
  ),
  task(
    'return_nested_signature_chord_group',
    nested(() => chord([group(s(P + 'add'))], s(P + 'add'))),
  ),
  task(
    'return_nested_signature_chord_chord',
    nested(() => chord([chord([s(P + 'add')], s(P + 'add'))], s(P + 'add'))),
  ),
  task('rebuild_signature', rebuild, { params: ['sig_dict'] }),
  task(
    'errback_old_style',
    async (id: PyValue) => {
      await redisCount(id);
      return id;
    },
    { params: ['request_id'] },
  ),
  task(
    'errback_new_style',
    async (request: { id: string }) => {
      await redisCount(request.id);
      return request.id;
    },
    { params: ['request', 'exc', 'tb'] },
  ),
  task('errback_old_style_with_args', (id: PyValue, label: PyValue) => redisEcho(label, id), {
    params: ['request_id', 'label'],
  }),
  task(
    'errback_new_style_with_args',
    (request: { id: string }, _e: unknown, _tb: unknown, label: PyValue) =>
      redisEcho(label, request.id),
    { params: ['request', 'exc', 'tb', 'label'] },
  ),
  task('replaced_with_me', () => true),
  task(
    'add_pydantic',
    (data: PyValue) => {
      const d = data as Kw;
      return { result: pyAdd(d.x ?? 0, d.y ?? 0) };
    },
    { params: ['data'] },
  ),
  task(
    'add_pydantic_string_annotations',
    (data: PyValue) => {
      const d = data as Kw;
      return { result: pyAdd(d.x ?? 0, d.y ?? 0) };
    },
    { params: ['data'] },
  ),
  bound(
    'replace_with_stamped_task',
    ['replace_with'],
    (ctx, replaceWith: PyValue) => {
      const sig = replaceWith === null ? s(P + 'replaced_with_me') : signature(replaceWith);
      // `StampedTaskOnReplace.on_replace`: `sig.stamp(StampOnReplace())`.
      const stamps = { StampOnReplace: 'This is the replaced task' };
      const prev = sig.options.stamped_headers;
      sig.set({
        ...stamps,
        stamped_headers: [...(Array.isArray(prev) ? (prev as PyValue[]) : []), 'StampOnReplace'],
      });
      return ctx.replace(sig);
    },
    { defaults: { replace_with: null } },
  ),
  bound(
    'store_success_then_reject',
    [],
    async (ctx) => {
      if (!ctx.deliveryInfo.redelivered) {
        await ctx.updateState('SUCCESS', 'first-pass');
        throw new Reject('', true);
      }
      return 'dedup-pass';
    },
    { acksLate: true },
  ),
  bound(
    'reject_then_succeed',
    [],
    (ctx) => {
      if (!ctx.deliveryInfo.redelivered) throw new Reject('', true);
      return 'second-pass';
    },
    { acksLate: true },
  ),
  task('reject_without_requeue', () => {
    throw new Reject('rejected', false);
  }),
  task('soft_time_limit_must_exceed_time_limit', () => null, { softTimeLimit: 2, timeLimit: 1 }),
  bound('return_request_time_limits', [], (ctx) => ({
    time_limit: ctx.timeLimit,
    soft_time_limit: ctx.softTimeLimit,
  })),
  bound(
    'task_with_declared_time_limits',
    [],
    (ctx) => ({ time_limit: ctx.timeLimit, soft_time_limit: ctx.softTimeLimit }),
    { timeLimit: 60, softTimeLimit: 45 },
  ),
];

/** `celery_config` of the suite's conftest (broker and backend come from the worker's flags). */
export const config: Partial<CeleryConfig> = {
  resultExtended: true,
  acceptContent: ['json'],
};

export default tasks;
