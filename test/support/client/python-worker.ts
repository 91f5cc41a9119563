import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { CeleryLine } from '../../../src/config/config';

/** Options of {@link startPythonWorker}; names follow `python-peers/worker.sh`. */
export interface PythonWorkerOptions {
  line: CeleryLine;
  brokerUrl: string;
  resultBackend: string;
  queues: string;
  nodename?: string;
  pool?: 'solo' | 'prefork';
  concurrency?: number;
  resultSerializer?: string;
  /** `task_queue_max_priority` of the worker (uses `peer.client_app`). */
  queueMaxPriority?: number;
  /** Extra `celery worker` arguments. */
  extraArgs?: readonly string[];
  /** Milliseconds to wait for the "ready" log line (default 45 s). */
  readyTimeoutMs?: number;
}

/** A running real Celery worker (child process group). */
export interface PythonWorker {
  readonly process: ChildProcess;
  /** Everything the worker logged so far. */
  log(): string;
  /** SIGTERM the process group, SIGKILL after 5 s; idempotent. */
  stop(): Promise<void>;
}

const PEERS = resolve(__dirname, '../../../python-peers');

/**
 * Start `python-peers/worker.sh` and resolve once Celery logs `… ready.` (printed by
 * `celery/apps/worker.py`, `Worker.on_consumer_ready`). Test support only.
 */
export function startPythonWorker(o: PythonWorkerOptions): Promise<PythonWorker> {
  const extra = [...(o.extraArgs ?? [])];
  // worker.sh hardcodes `-A peer.app`; a later `-A` is not honoured, so the knob-carrying app is
  // started the way worker.sh would, by the same venv.
  const cmd =
    o.queueMaxPriority === undefined
      ? ['bash', [resolve(PEERS, 'worker.sh'), ...extra]]
      : [
          resolve(PEERS, `.venv-${o.line}/bin/python`),
          [
            '-m',
            'celery',
            '-A',
            'peer.client_app',
            'worker',
            '-Q',
            o.queues,
            '-n',
            o.nodename ?? `py-${o.queues}@%h`,
            '--without-gossip',
            '--without-mingle',
            '-l',
            'info',
            '-P',
            o.pool ?? 'solo',
            ...extra,
          ],
        ];
  const child = spawn(cmd[0] as string, cmd[1] as string[], {
    cwd: PEERS,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CELERY_LINE: o.line,
      CELERY_BROKER_URL: o.brokerUrl,
      CELERY_RESULT_BACKEND: o.resultBackend,
      PY_QUEUES: o.queues,
      PY_NODENAME: o.nodename ?? `py-${o.queues}@%h`,
      CELERY_POOL: o.pool ?? 'solo',
      CELERY_CONCURRENCY: String(o.concurrency ?? 2),
      CELERY_RESULT_SERIALIZER: o.resultSerializer ?? 'json',
      CELERY_SEND_EVENTS: '0',
      PY_QUEUE_MAX_PRIORITY: o.queueMaxPriority === undefined ? '' : String(o.queueMaxPriority),
    },
  });
  let out = '';
  let exited = false;
  const exitP = new Promise<void>((res) => {
    child.on('exit', () => {
      exited = true;
      res();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await exitP;
    clearTimeout(t);
  };
  return new Promise<PythonWorker>((res, rej) => {
    const timer = setTimeout(() => {
      void stop().then(() => {
        rej(new Error(`python worker not ready:\n${out}`));
      });
    }, o.readyTimeoutMs ?? 45_000);
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      if (/\bready\.\s*$/m.test(out)) {
        clearTimeout(timer);
        res({ process: child, log: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exitP.then(() => {
      clearTimeout(timer);
      rej(new Error(`python worker exited:\n${out}`));
    });
  });
}
