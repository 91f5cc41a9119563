import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, python } from '../worker/int-helpers';

/** Support for the 3-node RabbitMQ cluster test (`scripts/rabbitmq-cluster.sh`). */
const SCRIPT = join(ROOT, 'scripts', 'rabbitmq-cluster.sh');
const SUPPORT = join(ROOT, 'test', 'support', 'cluster');
/** The cluster test's own Redis database (the ledger). */
export const CLUSTER_LEDGER = process.env.CLUSTER_LEDGER_URL ?? 'redis://127.0.0.1:6379/11';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `bash scripts/rabbitmq-cluster.sh <args…>`; resolves with stdout. */
export function clusterScript(args: readonly string[], timeoutMs = 280_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile('bash', [SCRIPT, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) rej(new Error(`rabbitmq-cluster.sh ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/** `rabbitmqctl -n rabbit-c<n>@localhost <args…>` with the cluster's cookie. */
export function ctl(node: 1 | 2 | 3, args: readonly string[]): Promise<string> {
  return clusterScript(['ctl', String(node), ...args], 120_000);
}

/** A Python Celery 5.7 process of `cluster_app.py`, its output kept. */
export interface PyProcess {
  log(): string;
  readonly exited: Promise<number | string>;
  stop(): Promise<void>;
}

function pyProcess(child: ChildProcess): PyProcess {
  let out = '';
  let code: number | string | undefined;
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((res) => {
    child.on('exit', (c, s) => {
      code = c ?? s ?? -1;
      res(code);
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  return {
    log: () => out,
    exited,
    stop: async () => {
      if (code !== undefined) return;
      signal('SIGTERM');
      const t = setTimeout(() => {
        signal('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface PyEnv {
  brokerUrl: string;
  tsQueue: string;
  pyQueue: string;
}

function env(o: PyEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: SUPPORT,
    CELERY_BROKER_URL: o.brokerUrl,
    CLUSTER_LEDGER_URL: CLUSTER_LEDGER,
    CLUSTER_TS_QUEUE: o.tsQueue,
    CLUSTER_PY_QUEUE: o.pyQueue,
  };
}

/** `celery -A cluster_app worker -P solo -Q <pyQueue>`; resolves once it logs `ready.`. */
export async function startPyWorker(o: PyEnv & { name: string }): Promise<PyProcess> {
  const child = spawn(
    python('5.7'),
    [
      '-m',
      'celery',
      '-A',
      'cluster_app',
      'worker',
      '-P',
      'solo',
      '-Q',
      o.pyQueue,
      '-n',
      o.name,
    ].concat(['--without-mingle', '--without-gossip', '-l', 'info']),
    { cwd: SUPPORT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env(o) },
  );
  const p = pyProcess(child);
  const end = Date.now() + 90_000;
  for (;;) {
    if (/\bready\./.test(p.log())) return p;
    const done = await Promise.race([p.exited, sleep(100).then(() => undefined)]);
    if (done !== undefined || Date.now() > end) {
      await p.stop();
      throw new Error(`Python worker not ready (${String(done)}):\n${p.log()}`);
    }
  }
}

/** `python cluster_app.py`: sends `cluster.ts_record` for `ids` at `paceMs` apart. */
export function startPyProducer(
  o: PyEnv & { run: string; ids: readonly string[]; ms: number; paceMs: number },
): PyProcess {
  const child = spawn(python('5.7'), ['cluster_app.py'], {
    cwd: SUPPORT,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: env(o),
  });
  child.stdin.end(
    JSON.stringify({ queue: o.tsQueue, run: o.run, ids: o.ids, ms: o.ms, pace_ms: o.paceMs }),
  );
  return pyProcess(child);
}

/** How many tasks the producer reports sent so far (`sent N` lines). */
export function pySent(p: PyProcess): number {
  const all = [...p.log().matchAll(/^(?:sent|done) (\d+)$/gm)];
  const last = all.at(-1);
  return last ? Number(last[1]) : 0;
}

/** Runs per task id: how many times it started and finished. */
export interface Ledger {
  started: Record<string, number>;
  done: Record<string, number>;
}

export class LedgerReader {
  readonly redis = new Redis(CLUSTER_LEDGER);

  async read(run: string): Promise<Ledger> {
    const [started, done] = await Promise.all([
      this.redis.hgetall(`cluster:${run}:started`),
      this.redis.hgetall(`cluster:${run}:done`),
    ]);
    const num = (r: Record<string, string>): Record<string, number> =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
    return { started: num(started), done: num(done) };
  }

  async waitAllDone(run: string, ids: readonly string[], timeoutMs: number): Promise<Ledger> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.read(run);
      if (ids.every((id) => (l.done[id] ?? 0) >= 1) || Date.now() > end) return l;
      await sleep(200);
    }
  }

  /** One line per run of a task: which copy ran (see the tasks). */
  async trace(run: string, line: string): Promise<void> {
    await this.redis.rpush(`cluster:${run}:trace`, line);
  }

  /** The trace lines of `ids`, in the order the runs started. */
  async traceOf(run: string, ids: readonly string[]): Promise<string[]> {
    const all = await this.redis.lrange(`cluster:${run}:trace`, 0, -1);
    return all.filter((l) => ids.includes(l.split(' ')[0] ?? ''));
  }

  async cleanup(...runs: string[]): Promise<void> {
    for (const r of runs) {
      await this.redis.del(`cluster:${r}:started`, `cluster:${r}:done`, `cluster:${r}:trace`);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}

/**
 * Lost and duplicated ids of one direction. The at-least-once window: ids that had started
 * when the node was gone (`after`) but had not finished before it was stopped (`before`) — a
 * task running at the loss is redelivered (acks_late) and may run again; nothing else may.
 */
export function figures(
  ids: readonly string[],
  before: Ledger,
  after: Ledger,
  final: Ledger,
): { lost: string[]; duplicates: string[]; window: string[] } {
  const window = ids.filter((id) => (after.started[id] ?? 0) > 0 && !(before.done[id] ?? 0));
  return {
    lost: ids.filter((id) => (final.done[id] ?? 0) === 0),
    duplicates: ids.filter((id) => (final.started[id] ?? 0) > 1),
    window,
  };
}
