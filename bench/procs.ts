import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (bench/ runs under tsx from the source). */
export const repoRoot = resolve(__dirname, '..');

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and all its live descendants (prefork children), from /proc. */
function familyOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    const p = Number(d);
    if (!Number.isInteger(p)) continue;
    const f = statFields(p);
    if (f) parent.set(p, Number(f[1]));
  }
  const out = [pid];
  const seen = new Set(out);
  let frontier = [pid];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [p, pp] of parent) {
      if (frontier.includes(pp) && !seen.has(p)) {
        seen.add(p);
        next.push(p);
      }
    }
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** CPU seconds (user + system) used so far by `pid` and its live descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of familyOf(pid)) {
    const f = statFields(p);
    // Fields 14 and 15 of stat (utime, stime), 0-based 11 and 12 after the name.
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

/** Resident set size of `pid` in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const s = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A child process whose stderr/stdout are kept (last 64 KiB) for error reports. */
export interface Proc {
  child: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function start(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((r) => {
    child.once('exit', () => {
      r();
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Run a command to completion; resolve with the JSON object it prints last on stdout. */
export async function runJson<T>(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  const p = start(cmd, args, env);
  let stdout = '';
  p.child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
  });
  const code = await new Promise<number | null>((r) => {
    p.child.once('close', (c) => {
      r(c);
    });
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(code)}: ${p.output()}`);
  return JSON.parse(last) as T;
}

export const tsxBin = join(repoRoot, 'node_modules', '.bin', 'tsx');
export const cliBin = join(repoRoot, 'bin', 'celery-wire.js');

/** Python interpreter or tool of a peer venv made by python-peers/bootstrap.sh. */
export function peerBin(tool: string, line = '5.7'): string {
  return join(repoRoot, 'python-peers', `.venv-${line}`, 'bin', tool);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
