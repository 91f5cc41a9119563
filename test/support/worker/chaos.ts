import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, python, uniq } from './int-helpers';

/** Chaos tests' own Redis database (ledger, and the Redis broker with a short visibility). */
export const CHAOS_REDIS = process.env.CHAOS_REDIS_URL ?? 'redis://127.0.0.1:6379/2';
export const CHAOS_AMQP = process.env.WORKER_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672//';
const SUPPORT = join(ROOT, 'test', 'support', 'worker');
const BIN = join(ROOT, 'bin', 'celery-wire.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A worker process (TS CLI or Python Celery) under test. */
export interface ChaosProcess {
  readonly name: string;
  /** OS pid of the worker process. */
  readonly pid: number;
  log(): string;
  /** Send a signal to the whole process group. */
  kill(sig: NodeJS.Signals): void;
  /** Exit code, or the signal name. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<number | string>;
}

function track(
  name: string,
  child: ChildProcess,
  ready: RegExp,
  timeoutMs: number,
): Promise<ChaosProcess> {
  let out = '';
  let code: number | string | undefined;
  const exited = new Promise<number | string>((res) => {
    child.on('exit', (c, s) => {
      code = c ?? s ?? -1;
      res(code);
    });
  });
  const kill = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  const proc: ChaosProcess = {
    name,
    pid: child.pid ?? -1,
    log: () => out,
    kill,
    exited,
    stop: async (graceMs = 10_000) => {
      if (code !== undefined) return code;
      kill('SIGTERM');
      const t = setTimeout(() => {
        kill('SIGKILL');
      }, graceMs);
      const c = await exited;
      clearTimeout(t);
      return c;
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
      rej(new Error(`${name} not ready:\n${out}`));
    }, timeoutMs);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        res(proc);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((c) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${String(c)}) before ready:\n${out}`));
    });
  });
}

/** `celery-wire worker --app test/support/worker/chaos-app.ts …` as users run it (built binary). */
export function startTsWorker(o: {
  broker: string;
  queues: string[];
  concurrency?: number;
  prefetchMultiplier?: number;
  vtSeconds?: number;
  extraArgs?: string[];
}): Promise<ChaosProcess> {
  const name = `${uniq('ts')}@chaos`;
  const child = spawn(
    process.execPath,
    [
      BIN,
      'worker',
      '--app',
      join(SUPPORT, 'chaos-app.ts'),
      '-Q',
      o.queues.join(','),
      '-c',
      String(o.concurrency ?? 2),
      '-n',
      name,
      '--prefetch-multiplier',
      String(o.prefetchMultiplier ?? 1),
      ...(o.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CELERY_BROKER_URL: o.broker,
        CELERY_RESULT_BACKEND: '',
        CHAOS_LEDGER_URL: CHAOS_REDIS,
        ...(o.vtSeconds === undefined ? {} : { CHAOS_VT_SECONDS: String(o.vtSeconds) }),
      },
    },
  );
  return track(name, child, / ready: /, 60_000);
}

function pyEnv(broker: string, vtSeconds?: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: SUPPORT,
    CELERY_BROKER_URL: broker,
    CHAOS_LEDGER_URL: CHAOS_REDIS,
    ...(vtSeconds === undefined ? {} : { CHAOS_VT_SECONDS: String(vtSeconds) }),
  };
}

/** A real Python Celery worker (`-P solo`) running `chaos_app.py`. */
export function startPyWorker(o: {
  broker: string;
  queues: string[];
  line?: '5.7' | '5.2';
  vtSeconds?: number;
}): Promise<ChaosProcess> {
  const name = `${uniq('py')}@chaos`;
  const child = spawn(
    python(o.line ?? '5.7'),
    [
      '-m',
      'celery',
      '-A',
      'chaos_app',
      'worker',
      '-P',
      'solo',
      '-Q',
      o.queues.join(','),
      '-n',
      name,
      '--without-mingle',
      '--without-gossip',
      '-l',
      'info',
    ],
    {
      cwd: SUPPORT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: pyEnv(o.broker, o.vtSeconds),
    },
  );
  return track(name, child, /\bready\./, 60_000);
}

/** Run a Python command of the chaos app; resolves with stdout. */
export function runPy(
  args: readonly string[],
  o: { broker: string; line?: '5.7' | '5.2'; input?: unknown },
): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(
      python(o.line ?? '5.7'),
      [...args],
      { cwd: SUPPORT, env: pyEnv(o.broker), timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${args.join(' ')}: ${err.message}\n${stderr}`));
        else res(stdout);
      },
    );
    child.stdin?.end(o.input === undefined ? '' : JSON.stringify(o.input));
  });
}

/** Send `chaos.record` tasks from a real Python Celery producer. */
export async function produce(
  o: { broker: string; line?: '5.7' | '5.2' },
  spec: {
    queue: string;
    run: string;
    ids: string[];
    ms: number;
    countdown?: Record<string, number>;
  },
): Promise<void> {
  await runPy(['chaos_app.py'], { ...o, input: spec });
}

/** `celery -A chaos_app control <args…>` (Celery's own CLI). */
export function celeryControl(
  o: { broker: string; line?: '5.7' | '5.2' },
  args: readonly string[],
): Promise<string> {
  return runPy(['-m', 'celery', '-A', 'chaos_app', 'control', ...args], o);
}

/** The execution ledger of one run. */
export interface Ledger {
  started: Record<string, number>;
  done: Record<string, number>;
  log: string[];
}

export class LedgerReader {
  readonly redis = new Redis(CHAOS_REDIS);

  async read(run: string): Promise<Ledger> {
    const [started, done, log] = await Promise.all([
      this.redis.hgetall(`chaos:${run}:started`),
      this.redis.hgetall(`chaos:${run}:done`),
      this.redis.lrange(`chaos:${run}:log`, 0, -1),
    ]);
    const num = (r: Record<string, string>): Record<string, number> =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
    return { started: num(started), done: num(done), log };
  }

  /** Poll until every id finished at least once (or time out); returns the last ledger. */
  async waitAllDone(run: string, ids: readonly string[], timeoutMs: number): Promise<Ledger> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.read(run);
      if (ids.every((id) => (l.done[id] ?? 0) >= 1) || Date.now() > end) return l;
      await sleep(200);
    }
  }

  async cleanup(run: string): Promise<void> {
    await this.redis.del(`chaos:${run}:started`, `chaos:${run}:done`, `chaos:${run}:log`);
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Figures of one chaos run: lost must be 0; duplicates only among the in-flight ids. */
export interface ChaosFigures {
  tasks: number;
  lost: string[];
  duplicates: string[];
  /** Started but not finished at the moment of the fault (the at-least-once window). */
  inFlight: string[];
  allDoneAfterFaultMs: number;
}

export function figures(
  ids: readonly string[],
  atFault: Ledger,
  final: Ledger,
  allDoneAfterFaultMs: number,
): ChaosFigures {
  const inFlight = ids.filter((id) => (atFault.started[id] ?? 0) > (atFault.done[id] ?? 0));
  return {
    tasks: ids.length,
    lost: ids.filter((id) => (final.done[id] ?? 0) === 0),
    duplicates: ids.filter((id) => (final.started[id] ?? 0) > 1),
    inFlight,
    allDoneAfterFaultMs,
  };
}
