import { strtobool } from '../protocol/control-args';
import type { PyValue } from '../serialization/py-values';

type Conv = (s: string) => PyValue;

/** Python `int(s)` / `float(s)` as Celery's CLI converts arguments (`_consume_arguments`). */
const int: Conv = (s) => {
  if (!/^\s*[+-]?\d+\s*$/.test(s))
    throw new Error(`invalid literal for int() with base 10: '${s}'`);
  return Number(s);
};
const float: Conv = (s) => {
  const n = Number(s);
  if (s.trim() === '' || Number.isNaN(n))
    throw new Error(`could not convert string to float: '${s}'`);
  return n;
};
const str: Conv = (s) => s;
const bool: Conv = (s) => strtobool(s);

/** `Panel.meta` (`celery/worker/control.py`): type, positional `args`, `variadic`, signature. */
export interface CommandMeta {
  type: 'inspect' | 'control';
  args?: readonly (readonly [string, Conv])[];
  variadic?: string;
  signature?: string;
  help: string;
  visible?: boolean;
}

/** The Celery 5.7 command table, as `celery inspect --list` / `celery control --list` show it. */
export const COMMANDS: Readonly<Record<string, CommandMeta>> = {
  report: { type: 'inspect', help: 'Information about Celery installation for bug reports.' },
  conf: {
    type: 'inspect',
    args: [['with_defaults', bool]],
    signature: '[include_defaults=False]',
    help: 'List configuration.',
  },
  query_task: {
    type: 'inspect',
    variadic: 'ids',
    signature: '[id1 [id2 [... [idN]]]]',
    help: 'Query for task information by id.',
  },
  clock: { type: 'inspect', help: 'Get current logical clock value.' },
  hello: { type: 'inspect', help: 'Request mingle sync-data.', visible: false },
  ping: { type: 'inspect', help: 'Ping worker(s).' },
  stats: { type: 'inspect', help: 'Request worker statistics/information.' },
  scheduled: { type: 'inspect', help: 'List of currently scheduled ETA/countdown tasks.' },
  reserved: {
    type: 'inspect',
    help: 'List of currently reserved tasks, not including scheduled/active.',
  },
  active: { type: 'inspect', help: 'List of tasks currently being executed.' },
  revoked: { type: 'inspect', help: 'List of revoked task-ids.' },
  registered: {
    type: 'inspect',
    variadic: 'taskinfoitems',
    signature: '[attr1 [attr2 [... [attrN]]]]',
    help: 'List of registered tasks.',
  },
  objgraph: {
    type: 'inspect',
    args: [
      ['type', str],
      ['num', int],
      ['max_depth', int],
    ],
    signature: '[object_type=Request] [num=200 [max_depth=10]]',
    help: 'Create graph of uncollected objects (memory-leak debugging).',
  },
  memsample: { type: 'inspect', help: 'Sample current RSS memory usage.' },
  memdump: {
    type: 'inspect',
    args: [['samples', int]],
    signature: '[n_samples=10]',
    help: 'Dump statistics of previous memsample requests.',
  },
  active_queues: {
    type: 'inspect',
    help: 'List the task queues a worker is currently consuming from.',
  },
  revoke: {
    type: 'control',
    variadic: 'task_id',
    signature: '[id1 [id2 [... [idN]]]]',
    help: 'Revoke task by task id (or list of ids).',
  },
  revoke_by_stamped_headers: {
    type: 'control',
    variadic: 'headers',
    signature: '[key1=value1 [key2=value2 [... [keyN=valueN]]]]',
    help: 'Revoke task by header (or list of headers).',
  },
  terminate: {
    type: 'control',
    args: [['signal', str]],
    variadic: 'task_id',
    signature: '<signal> [id1 [id2 [... [idN]]]]',
    help: 'Terminate task by task id (or list of ids).',
  },
  rate_limit: {
    type: 'control',
    args: [
      ['task_name', str],
      ['rate_limit', str],
    ],
    signature: '<task_name> <rate_limit (e.g., 5/s | 5/m | 5/h)>',
    help: 'Tell worker(s) to modify the rate limit for a task by type.',
  },
  time_limit: {
    type: 'control',
    args: [
      ['task_name', str],
      ['soft', float],
      ['hard', float],
    ],
    signature: '<task_name> <soft_secs> [hard_secs]',
    help: 'Tell worker(s) to modify the time limit for task by type.',
  },
  election: { type: 'control', help: 'Hold election.' },
  enable_events: { type: 'control', help: 'Tell worker(s) to send task-related events.' },
  disable_events: { type: 'control', help: 'Tell worker(s) to stop sending task-related events.' },
  heartbeat: { type: 'control', help: 'Tell worker(s) to send event heartbeat immediately.' },
  pool_grow: {
    type: 'control',
    args: [['n', int]],
    signature: '[N=1]',
    help: 'Grow pool by n processes/threads.',
  },
  pool_shrink: {
    type: 'control',
    args: [['n', int]],
    signature: '[N=1]',
    help: 'Shrink pool by n processes/threads.',
  },
  pool_restart: { type: 'control', help: 'Restart execution pool.' },
  autoscale: {
    type: 'control',
    args: [
      ['max', int],
      ['min', int],
    ],
    signature: '[max [min]]',
    help: 'Modify autoscale settings.',
  },
  shutdown: { type: 'control', help: 'Shutdown worker(s).' },
  add_consumer: {
    type: 'control',
    args: [
      ['queue', str],
      ['exchange', str],
      ['exchange_type', str],
      ['routing_key', str],
    ],
    signature: '<queue> [exchange [type [routing_key]]]',
    help: 'Tell worker(s) to consume from task queue by name.',
  },
  cancel_consumer: {
    type: 'control',
    args: [['queue', str]],
    signature: '<queue>',
    help: 'Tell worker(s) to stop consuming from task queue by name.',
  },
};

/** `_compile_arguments` (`celery/bin/control.py`): positional args by `meta.args`, rest variadic. */
export function compileArguments(
  command: string,
  args: readonly string[],
): Record<string, PyValue> {
  const meta = COMMANDS[command];
  if (!meta) throw new Error(`Command ${command} not recognized.`);
  const out: Record<string, PyValue> = {};
  const spec = meta.args ?? [];
  let i = 0;
  for (; i < args.length; i++) {
    const s = spec[i];
    if (!s) {
      if (meta.variadic) break;
      throw new Error(`Command '${command}' takes arguments: ${meta.signature ?? ''}`);
    }
    out[s[0]] = s[1](args[i] ?? '');
  }
  if (meta.variadic) out[meta.variadic] = args.slice(i);
  return out;
}
