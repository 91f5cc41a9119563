import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { whenPythonWorkerReady, type PythonWorkerProcess } from '../python-worker-process';
import { PEERS, ROOT } from '../worker/int-helpers';

/** This directory: `flower_app.py` is imported from here by Flower and the Python worker. */
const HERE = join(ROOT, 'test', 'support', 'pool');

/** A free loopback port picked at random in 20000–29999 (the house range for private servers). */
export async function randomPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => {
        res(false);
      });
      s.listen(port, '127.0.0.1', () => {
        s.close(() => {
          res(true);
        });
      });
    });
    if (free) return port;
  }
}

/** An HTTP answer of Flower's API: JSON parsed, or Flower's text/plain error message. */
export interface FlowerReply {
  status: number;
  body: unknown;
}

/** A running Flower 2.x (`python-peers/.venv-flower`) and its HTTP API. */
export interface Flower {
  readonly url: string;
  get(path: string): Promise<FlowerReply>;
  post(path: string, json?: unknown): Promise<FlowerReply>;
  log(): string;
  stop(): Promise<void>;
}

function envFor(broker: string, backend: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: HERE,
    CELERY_BROKER_URL: broker,
    CELERY_RESULT_BACKEND: backend,
  };
}

async function call(method: string, url: string, json?: unknown): Promise<FlowerReply> {
  const r = await fetch(
    url,
    json === undefined
      ? { method }
      : {
          method,
          // A string is the JSON as is (a float such as `1.0`, which JSON.stringify writes `1`).
          body: typeof json === 'string' ? json : JSON.stringify(json),
          headers: { 'content-type': 'application/json' },
        },
  );
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* Flower answers errors as text/plain */
  }
  return { status: r.status, body };
}

/**
 * `celery -A flower_app flower` on 127.0.0.1 at a random port, the API unauthenticated
 * (`FLOWER_UNAUTHENTICATED_API`, as Flower 2 requires for an API without auth); resolves once
 * `/healthcheck` answers.
 */
export async function startFlower(o: { broker: string; backend: string }): Promise<Flower> {
  // The `flower` extra venv; idempotent (a no-op when its stamp is current), so a clone whose CI
  // does not build it yet still gets it.
  execFileSync('bash', [join(PEERS, 'bootstrap-extra.sh'), 'flower'], { stdio: 'pipe' });
  const port = await randomPort();
  const child = spawn(
    join(PEERS, '.venv-flower', 'bin', 'celery'),
    [
      '-A',
      'flower_app',
      'flower',
      '--address=127.0.0.1',
      `--port=${String(port)}`,
      // Inspect replies come from workers on a loaded machine: Flower's 1 s default is tight.
      '--inspect_timeout=5000',
      '--persistent=False',
    ],
    {
      cwd: HERE,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...envFor(o.broker, o.backend), FLOWER_UNAUTHENTICATED_API: 'true' },
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) =>
    child.on('exit', () => {
      r();
    }),
  );
  const url = `http://127.0.0.1:${String(port)}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    await exited;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`flower exited:\n${out}`);
    try {
      const r = await fetch(`${url}/healthcheck`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300) {
      await stop();
      throw new Error(`flower not up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    get: (path) => call('GET', url + path),
    post: (path, json) => call('POST', url + path, json),
    log: () => out,
    stop,
  };
}

/** A Celery 5.7 prefork worker (`-E`) of `flower_app.py`: Flower's control worker. */
export function startPythonPoolWorker(o: {
  broker: string;
  backend: string;
  queue: string;
  nodename: string;
  args: readonly string[];
}): Promise<PythonWorkerProcess> {
  const child = spawn(
    join(PEERS, '.venv-5.7', 'bin', 'python'),
    [
      '-m',
      'celery',
      '-A',
      'flower_app',
      'worker',
      '-P',
      'prefork',
      '-E',
      '-l',
      'info',
      '--without-gossip',
      '--without-mingle',
      '-Q',
      o.queue,
      '-n',
      o.nodename,
      ...o.args,
    ],
    {
      cwd: HERE,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: envFor(o.broker, o.backend),
    },
  );
  return whenPythonWorkerReady(child);
}

/** Recursive key shape of a JSON value (the values aside: pids, clocks and ids differ). */
export { shape } from '../operator-checks';

/**
 * Poll `probe` (every 250 ms, at most `tries` times) until it returns a value that is not
 * undefined; throws with `what` and the last value seen. A bounded wait for an effect, not a
 * timing assertion.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  tries = 120,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`never happened: ${what} (last error: ${String(last)})`);
}

/**
 * The rows of each tab of Flower's worker page (`templates/worker.html`, `tab-pool`,
 * `tab-broker`…): per tab, the first cell of every table row (the label: "Max concurrency",
 * "Transport", "utime"…, or a task name or queue).
 */
export function workerPageTabs(html: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const parts = html.split(/<div class="tab-pane[^"]*" id="tab-/).slice(1);
  for (const part of parts) {
    const name = part.slice(0, part.indexOf('"'));
    const rows = part.split(/<tr[\s>]/).slice(1);
    out[name] = rows.map((r) => {
      const m = /<td>\s*([^<]*?)\s*<\/td>/.exec(r);
      return m ? (m[1] ?? '') : '';
    });
  }
  return out;
}
