import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pyJsonLoads } from '../../src/serialization/python-json';
import { PEERS, python } from './worker/int-helpers';

const run = promisify(execFile);

/**
 * The operator checklist of test/integration/operator-checks.test.ts (issue 11): Celery 5.7's own
 * CLI against a Python prefork worker and the TS worker, one row per operator-visible aspect.
 */
export interface CheckRow {
  command: string;
  aspect: string;
  py: string;
  ts: string;
  match: boolean;
  /** Why a difference is accepted (from {@link ALLOWED}); empty for matches and defects. */
  reason: string;
}

/** One side of the comparison: the worker's node name and the names it alone uses. */
export interface Side {
  node: string;
  /** Literal → placeholder (`<q>` for the side's queue prefix, `<id:1>` for task ids, …). */
  subst: Map<string, string>;
}

/** The documented differences: `command | aspect` → why a Python worker cannot do better. */
const TIME_LIMIT_CONTROL =
  'Celery 5.7 prefork does not apply `control time_limit` to later tasks until its consumer ' +
  'restarts: create_request_cls (celery/worker/request.py:992) captures task.time_limit and ' +
  'soft_time_limit when the strategies are built (Tasks.start), and the command only sets the ' +
  'task attributes; the TS worker applies the new limits to the next task, as the command says.';

export const ALLOWED: Readonly<Record<string, string>> = {
  'celery inspect stats | pid': 'two processes, two pids',
  'celery inspect active | request.worker_pid':
    'the pool child pid vs the pool thread id (each one of its stats.pool.processes; see the ' +
    '"worker_pid … is in pool.processes" row)',
  'celery inspect stats | rusage values':
    'getrusage(RUSAGE_SELF) of two processes (CPython vs Node); same 16 keys',
  'celery inspect stats | pool.implementation':
    "the pool's class: celery.concurrency.prefork:TaskPool vs the TS worker-thread pool",
  'celery inspect stats | pool.processes ids':
    'Celery lists child pids; the TS prefork pool runs worker threads in one process and lists ' +
    'their thread ids (same count, changed by the same commands)',
  'celery inspect report | software/platform text':
    'versions of the software: celery/kombu/billiard/CPython vs celery-wire/Node/V8',
  'celery inspect conf | setting names only one side lists':
    'Celery lists every setting its app module assigned, even to the default value ' +
    "(python-peers/peer/app.py assigns task_serializer='json', task_protocol=2, include, …); " +
    'the TS worker lists the settings that differ from the defaults. The values of the ' +
    'settings both list agree (next row)',
  'celery inspect conf 1 | values of the 208 settings both list':
    "include is the Python app's module list (peer.tasks; a TS app has no Python modules); " +
    'broker_connection_retry_on_startup=True is assigned by peer/app.py, the TS app leaves ' +
    "Celery's default None (both retry on startup)",
  'celery result <fail> --traceback | output':
    'the traceback text: Python frames vs the JavaScript stack (first line and the exception ' +
    'line agree)',
  'task past a soft limit set by time_limit | state': TIME_LIMIT_CONTROL,
  'celery result <soft> | output': TIME_LIMIT_CONTROL,
  'task past a hard limit set by time_limit | state': TIME_LIMIT_CONTROL,
  'celery result <hard> | output': TIME_LIMIT_CONTROL,
};

/** Recursive key shape of a reply (lists by their first item). */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [shape(v[0])] : [];
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  return v === null ? 'null' : typeof v;
}

/** Replace the side's node, queue and task-id literals by placeholders (in every string). */
export function normalize(v: unknown, side: Side): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const [from, to] of side.subst) s = s.split(from).join(to);
    // A Python set's repr (`tasks {'b', 'a'} flagged as revoked`) is in hash order, which
    // PYTHONHASHSEED randomizes per process: compare its items sorted.
    return s.replace(
      /\{'[^{}]*'\}/g,
      (set) => `{${set.slice(1, -1).split(', ').sort().join(', ')}}`,
    );
  }
  if (Array.isArray(v)) return v.map((x) => normalize(x, side));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [normalize(k, side) as string, normalize(x, side)]),
    );
  }
  return v;
}

const show = (v: unknown): string => {
  const s = v === undefined ? '(no reply)' : JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

/** Sorted, stable JSON (dict key order is not an operator-visible difference). */
export function canon(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
      );
    }
    return x;
  };
  return v === undefined ? 'undefined' : JSON.stringify(sort(v));
}

/** The collected rows, with helpers that add one row per aspect. */
export class Checklist {
  readonly rows: CheckRow[] = [];

  /** A row comparing two already-normalized values (`how`: equal values or equal shapes). */
  add(command: string, aspect: string, py: unknown, ts: unknown, how: 'value' | 'shape'): void {
    const [a, b] = how === 'shape' ? [shape(py), shape(ts)] : [py, ts];
    const match = canon(a) === canon(b) && py !== undefined;
    const key = `${command} | ${aspect}`;
    this.rows.push({
      command,
      aspect,
      py: show(how === 'shape' ? shape(py) : py),
      ts: show(how === 'shape' ? shape(ts) : ts),
      match,
      reason: match ? '' : (ALLOWED[key] ?? ''),
    });
  }

  /** Rows for a dict reply: its key shape, then each top-level key by value or by shape. */
  addFields(
    command: string,
    prefix: string,
    py: unknown,
    ts: unknown,
    shapeOnly: readonly string[] = [],
  ): void {
    this.add(command, `${prefix}keys`, py, ts, 'shape');
    const p = (py ?? {}) as Record<string, unknown>;
    const t = (ts ?? {}) as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(p), ...Object.keys(t)])].sort()) {
      this.add(command, `${prefix}${k}`, p[k], t[k], shapeOnly.includes(k) ? 'shape' : 'value');
    }
  }

  /** Rows that differ and are not documented. */
  defects(): CheckRow[] {
    return this.rows.filter((r) => !r.match && r.reason === '');
  }

  /** Allowlist entries no row used (a difference that went away, or a renamed check). */
  unusedAllowances(): string[] {
    const used = new Set(
      this.rows.filter((r) => !r.match).map((r) => `${r.command} | ${r.aspect}`),
    );
    return Object.keys(ALLOWED).filter((k) => !used.has(k));
  }

  /** The markdown table and the count line. */
  table(): string {
    const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const lines = [
      '| # | command | aspect | Python 5.7 prefork | TS worker | result | reason |',
      '|---|---|---|---|---|---|---|',
      ...this.rows.map(
        (r, i) =>
          `| ${String(i + 1)} | \`${esc(r.command)}\` | ${esc(r.aspect)} | ${esc(r.py)} | ${esc(r.ts)} | ${r.match ? 'match' : 'differs'} | ${esc(r.reason)} |`,
      ),
    ];
    return `${lines.join('\n')}\n\n${this.count()}`;
  }

  count(): string {
    const n = this.rows.filter((r) => r.match).length;
    return `operator checks: ${String(n)}/${String(this.rows.length)} match`;
  }
}

/** Output of one `python -m celery -A peer.app …` run (exit code kept: errors are replies too). */
export interface CliRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run Celery 5.7's CLI in python-peers/ (never throws: a failing command is a result). */
export async function celeryCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  try {
    const r = await run(python('5.7'), ['-m', 'celery', '-A', 'peer.app', ...args], {
      cwd: PEERS,
      env,
      timeout: 60_000,
      maxBuffer: 16 << 20,
    });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: x.code ?? -1 };
  }
}

/** `{node: reply}` from `--json` output (`control` prints a list of one-key dicts). */
export function repliesOf(out: string): Record<string, unknown> {
  for (const line of out.trim().split('\n').reverse()) {
    if (!/^[[{]/.test(line)) continue;
    try {
      // Python's json: `Infinity` (result_backend_max_retries) on both sides.
      const v = pyJsonLoads(line) as unknown;
      return (Array.isArray(v) ? Object.assign({}, ...(v as object[])) : v) as Record<
        string,
        unknown
      >;
    } catch {
      /* not the JSON line */
    }
  }
  return {};
}
