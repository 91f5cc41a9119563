import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * What a matrix row says about the run that produced it: when, which celery-wire (version and
 * commit) and which exact Celery/kombu pins of the line (`python-peers/requirements-<line>.txt`).
 */
const ROOT = resolve(__dirname, '..', '..', '..');

function pin(line: string, pkg: string): string {
  try {
    const req = readFileSync(join(ROOT, 'python-peers', `requirements-${line}.txt`), 'utf8');
    return new RegExp(`^${pkg}==(\\S+)`, 'm').exec(req)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** The commit, `+dirty` when the code under test differs from it (the matrix files aside). */
function commit(): string {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: ROOT, stdio: 'pipe' }).toString().trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src', 'test', 'conformance', 'python-peers');
    return `${git('rev-parse', '--short', 'HEAD')}${dirty === '' ? '' : '+dirty'}`;
  } catch {
    return 'no git';
  }
}

/** `(line) => "2026-12-01 17:40 UTC · celery-wire 0.1.0 @abc1234 · celery 5.7.0, kombu 5.7.0"`. */
export function runStamp(now: Date): { stamp: string; run: (line: string) => string } {
  const stamp = now.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const wire = `celery-wire ${pkg.version} @${commit()}`;
  return {
    stamp,
    run: (line) =>
      `${stamp} · ${wire} · celery ${pin(line, 'celery')}, kombu ${pin(line, 'kombu')}`,
  };
}
