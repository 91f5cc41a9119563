import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Test support for the celery-exporter comparison: the real danihodovic/celery-exporter
 * (PyPI `prometheus-exporter-celery`, `python-peers/.venv-exporter`), a private Redis, and a
 * parser of Prometheus' text format.
 */
const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');
const VENV = join(PEERS, '.venv-exporter');

/** A loopback port in 20000–29999 that nothing listens on now. */
export function randomPort(): number {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 10000);
    try {
      execFileSync('bash', ['-c', `! (exec 3<>/dev/tcp/127.0.0.1/${String(p)}) 2>/dev/null`]);
      return p;
    } catch {
      /* in use: try another */
    }
  }
}

/** A private redis-server (scripts/redis-private.sh) on a random port. */
export function privateRedis(): { port: number; stop(): void } {
  const port = randomPort();
  const dir = mkdtempSync(join(tmpdir(), 'cw-exporter-redis-'));
  const script = join(ROOT, 'scripts', 'redis-private.sh');
  execFileSync(script, ['start', String(port), dir], { stdio: 'pipe' });
  return {
    port,
    stop: () => {
      execFileSync(script, ['stop', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running celery-exporter. */
export interface CeleryExporter {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Start celery-exporter on `brokerUrl` and wait for its "Started celery-exporter" line. */
export async function startCeleryExporter(brokerUrl: string): Promise<CeleryExporter> {
  const py = join(VENV, 'bin', 'python');
  if (!existsSync(py)) {
    throw new Error(`${py} missing: run \`bash python-peers/bootstrap-extra.sh exporter\``);
  }
  const port = randomPort();
  // The wheel installs its code as the top-level package `src` and no console script.
  const child: ChildProcess = spawn(
    py,
    [
      '-c',
      'from src.cli import cli; cli()',
      '--broker-url',
      brokerUrl,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'DEBUG',
    ],
    {
      cwd: PEERS,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONWARNINGS: 'ignore' },
    },
  );
  let out = '';
  const exit = new Promise<void>((res) => {
    child.once('exit', () => {
      res();
    });
  });
  await new Promise<void>((res, rej) => {
    const on = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Started celery-exporter')) res();
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      rej(new Error(`celery-exporter exited ${String(code)}: ${out}`));
    });
  });
  return {
    port,
    log: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        child.kill('SIGKILL');
      }, 5000);
      await exit;
      clearTimeout(t);
    },
  };
}

/** One metric family of a scrape: `# HELP`, `# TYPE` and its samples. */
export interface Family {
  help: string;
  type: string;
  samples: Sample[];
}
export interface Sample {
  /** Sample name (`celery_task_runtime_bucket`, …). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parse Prometheus' text exposition format (0.0.4) into families by name. */
export function parsePrometheus(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  let current: Family | undefined;
  const family = (name: string): Family => {
    let f = out.get(name);
    if (!f) {
      f = { help: '', type: 'untyped', samples: [] };
      out.set(name, f);
    }
    return f;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind = '', name = '', rest = ''] = meta;
      current = family(name);
      if (kind === 'HELP') current.help = unescape(rest);
      else current.type = rest;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || !current) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = unescape(l[2] ?? '');
    }
    current.samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** GET `/metrics` of a local port as text. */
export async function scrapeText(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
  if (!r.ok) throw new Error(`scrape of ${String(port)}: HTTP ${String(r.status)}`);
  return r.text();
}
