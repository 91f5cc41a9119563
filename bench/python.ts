import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root (bench/ runs under tsx from the source). */
export const repoRoot = resolve(__dirname, '..');

/** Python interpreter of a peer venv made by python-peers/bootstrap.sh. */
export function peerPython(line = '5.7'): string {
  const py = join(repoRoot, 'python-peers', `.venv-${line}`, 'bin', 'python');
  if (!existsSync(py)) {
    throw new Error(`${py} is missing: run \`bash python-peers/bootstrap.sh\` first`);
  }
  return py;
}

/** Run a Python peer script and parse the JSON object it prints last. */
export async function runPythonJson<T>(
  script: string,
  args: readonly string[],
  line = '5.7',
): Promise<T> {
  const { stdout } = await run(peerPython(line), [join(repoRoot, script), ...args], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
