import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { emitStubs } from '../stubs/emit';
import { INTROSPECT_SCRIPT } from '../stubs/introspect-script';
import type { PyAppInfo } from '../stubs/model';
import type { CliIo } from './io';

export const STUBS_USAGE = `usage: celery-wire stubs -A APP [options]

Write TypeScript typed handles for the tasks of a Python Celery app. APP is what you pass to
\`celery -A\`; it is imported by your own Python (nothing in your code changes), which reads each
task's signature and type hints.

options:
  -A, --app APP       the Celery app, as for \`celery -A\` (e.g. proj, proj.celery:app)
  -o, --out FILE      write the module here (default: stdout)
      --check         do not write: exit 1 if FILE is missing or differs from what would be written
      --python PATH   the Python to run (default: $CELERY_WIRE_PYTHON, else python3)
      --cwd DIR       run Python in DIR, so APP imports from there (default: the current directory)
  -h, --help          this text

exit status: 0 written (or current with --check), 1 stale (--check), 2 bad usage or Python failed
`;

function introspect(python: string, app: string, cwd: string): Promise<PyAppInfo> {
  return new Promise((resolve, reject) => {
    execFile(
      python,
      ['-c', INTROSPECT_SCRIPT, app],
      { cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        if (err) {
          const why = stderr.trim().split('\n').slice(-3).join('\n') || err.message;
          reject(new Error(`${python} could not load the app ${app}:\n${why}`, { cause: err }));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as PyAppInfo);
        } catch (e) {
          reject(new Error(`unexpected output from ${python}: ${String(e)}`, { cause: e }));
        }
      },
    );
  });
}

/** `celery-wire stubs`: resolves to the exit status. */
export async function stubsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        app: { type: 'string', short: 'A' },
        out: { type: 'string', short: 'o' },
        check: { type: 'boolean' },
        python: { type: 'string' },
        cwd: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`celery-wire stubs: ${(e as Error).message}\n\n${STUBS_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(STUBS_USAGE);
    return 0;
  }
  if (!values.app || (values.check && !values.out)) {
    io.stderr(
      `celery-wire stubs: ${values.app ? '--check needs --out FILE' : '-A/--app is required'}\n\n${STUBS_USAGE}`,
    );
    return 2;
  }
  const given = values.python ?? process.env.CELERY_WIRE_PYTHON ?? 'python3';
  // A path is the user's, relative to where they stand (not to --cwd); a bare name is looked up.
  const python = given.includes('/') ? resolve(given) : given;
  let info: PyAppInfo;
  try {
    info = await introspect(python, values.app, values.cwd ?? process.cwd());
  } catch (e) {
    io.stderr(`celery-wire stubs: ${(e as Error).message}\n`);
    return 2;
  }
  const text = emitStubs(info, { command: `celery-wire stubs -A ${values.app}` });
  if (values.check && values.out) {
    const current = await readFile(values.out, 'utf8').catch(() => undefined);
    if (current === text) return 0;
    io.stderr(
      `celery-wire stubs: ${values.out} is ${current === undefined ? 'missing' : 'stale'}; ` +
        `regenerate it with: celery-wire stubs -A ${values.app} -o ${values.out}\n`,
    );
    return 1;
  }
  if (values.out) {
    await writeFile(values.out, text);
    io.stderr(`celery-wire stubs: wrote ${String(info.tasks.length)} tasks to ${values.out}\n`);
  } else {
    io.stdout(text);
  }
  return 0;
}
