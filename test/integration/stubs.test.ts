import { execFile } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';

/**
 * `celery-wire stubs -A APP`, run as a user runs it (the built CLI, the user's Python): typed
 * handles for a Python app's tasks that compile under `tsc --strict` and reject wrong argument
 * types, a `--check` mode for CI, and the handles calling real Celery tasks. Apps: a typed app
 * (python-peers/peer/typed_app.py), the conformance app, and Celery 5.7's own
 * t/integration/tasks.py from its source distribution.
 */
const root = resolve(__dirname, '..', '..');
const peers = join(root, 'python-peers');
const run = promisify(execFile);
const cli = join(root, 'bin', 'celery-wire.js');
const stubsPython = join(peers, '.venv-stubs', 'bin', 'python');
const REDIS = 'redis://127.0.0.1:6379/0';

let dir = '';

async function stubs(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [cli, 'stubs', ...args], { cwd: root });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '' };
  }
}

/** `tsc --strict` (+ exactOptionalPropertyTypes) on the given files of the scratch project. */
async function tsc(files: readonly string[]): Promise<{ ok: boolean; out: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2022',
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files,
    }),
  );
  try {
    await run(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      dir,
    ]);
    return { ok: true, out: '' };
  } catch (e) {
    return { ok: false, out: (e as { stdout?: string }).stdout ?? String(e) };
  }
}

beforeAll(async () => {
  await run('bash', [join(peers, 'bootstrap-extra.sh'), 'stubs']);
  dir = mkdtempSync(join(tmpdir(), 'celery-wire-stubs-'));
  // `celery-wire` resolves to this repository (its package.json `exports` → dist/).
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'celery-wire'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'stubs-user', type: 'module' }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('celery-wire stubs on a typed Python app', () => {
  const out = (): string => join(dir, 'typed.ts');

  it('writes typed handles that compile and reject wrong argument types', async () => {
    const res = await stubs([
      '-A',
      'peer.typed_app',
      '--python',
      stubsPython,
      '--cwd',
      peers,
      '-o',
      out(),
    ]);
    expect(res).toMatchObject({ code: 0 });
    expect(res.stderr).toContain('wrote 8 tasks');
    writeFileSync(
      join(dir, 'use-typed.ts'),
      `import { createApp, PyDate, PyDateTime, PyDecimal, PyUUID } from 'celery-wire';
import { pythonTasks, type Point } from './typed.js';

const t = pythonTasks(createApp({ brokerUrl: 'redis://127.0.0.1:6379/0' }));
export async function ok(): Promise<void> {
  const sum: bigint | number = await (await t.add.delay(1, 2n)).get();
  await t.add.delay(1);
  const p: Point = await (await t.move.delay({ x: 1, y: 2 }, 3, 4)).get();
  await t.move.applyAsync({ args: [{ x: 1, y: 2 }, 0, 0], kwargs: { label: { label: 'a' } } });
  await t.bill.delay(
    { number: 'A1', total: new PyDecimal('9.99'), issued: new PyDateTime('2026-12-01T10:00:00') },
    new PyDate('2026-12-01'),
  );
  await t.greet.delay({ id: new PyUUID('8b1f5b1e-0b4e-4d1b-9d1e-000000000000'), name: 'Ada' }, 'long');
  await t.blob.delay(new Uint8Array([1]), 'a', 'b');
  await t.untyped.delay({ anything: [1, 'x'] });
  const maybe: bigint | number | null = await (await t.lookup.delay({ a: 1 }, 'a')).get();
  void [sum, p, maybe];
}
export async function wrong(): Promise<void> {
  // @ts-expect-error str where int is hinted
  await t.add.delay('1', 2);
  // @ts-expect-error a required parameter missing
  await t.scale.delay([1.5]);
  // @ts-expect-error TypedDict field of the wrong type
  await t.move.delay({ x: 'a', y: 2 }, 3, 4);
  // @ts-expect-error Literal outside its values
  await t.greet.delay({ id: new PyUUID('8b1f5b1e-0b4e-4d1b-9d1e-000000000000'), name: 'Ada' }, 'medium');
  // @ts-expect-error the result type is carried: lookup returns int | None
  const s: string = await (await t.lookup.delay({ a: 1 }, 'a')).get();
  void s;
}
`,
    );
    const res2 = await tsc(['typed.ts', 'use-typed.ts']);
    expect(res2).toEqual({ ok: true, out: '' });
  });

  it('a wrong argument type is a compile error naming the parameter type', async () => {
    writeFileSync(
      join(dir, 'bad-typed.ts'),
      `import { createApp } from 'celery-wire';
import { pythonTasks } from './typed.js';
export const r = pythonTasks(createApp({})).scale.delay(['x'], 2);
`,
    );
    const res = await tsc(['typed.ts', 'bad-typed.ts']);
    expect(res.ok).toBe(false);
    expect(res.out).toContain("Type 'string' is not assignable to type 'number | PyFloat'");
  });

  it('--check passes on a current file and fails on a stale or missing one', async () => {
    const args = ['-A', 'peer.typed_app', '--python', stubsPython, '--cwd', peers, '--check'];
    expect((await stubs([...args, '-o', out()])).code).toBe(0);
    appendFileSync(out(), '// edited\n');
    const stale = await stubs([...args, '-o', out()]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      'is stale; regenerate it with: celery-wire stubs -A peer.typed_app',
    );
    expect((await stubs([...args, '-o', join(dir, 'missing.ts')])).code).toBe(1);
  });

  it('a Python app that does not import is reported, exit status 2', async () => {
    const res = await stubs(['-A', 'no_such_module_here', '--python', stubsPython, '--cwd', peers]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('could not load the app no_such_module_here');
  });
});

describe("celery-wire stubs on Celery's own t/integration/tasks.py", () => {
  it('covers every task and compiles', async () => {
    const { stdout } = await run('bash', [join(peers, 'fetch-celery-source.sh'), '5.7.0']);
    const src = stdout.trim();
    // The suite's tasks are shared tasks; an app module that imports them is what `-A` names
    // (Celery's own suite builds its app in conftest the same way).
    writeFileSync(
      join(dir, 'celery_it_app.py'),
      `import sys\nsys.path.insert(0, ${JSON.stringify(src)})\nfrom celery import Celery\n` +
        `app = Celery('t.integration')\nimport t.integration.tasks  # noqa: E402,F401\n`,
    );
    const res = await stubs([
      '-A',
      'celery_it_app',
      '--python',
      stubsPython,
      '--cwd',
      dir,
      '-o',
      join(dir, 'it.ts'),
    ]);
    expect(res.code).toBe(0);
    // As many handles as Celery itself registers for that app (its builtins aside).
    const registered = await run(
      stubsPython,
      [
        '-c',
        'import celery_it_app as m; print(len([n for n in m.app.tasks if not n.startswith("celery.")]))',
      ],
      { cwd: dir },
    );
    const count = Number(/wrote (\d+) tasks/.exec(res.stderr)?.[1]);
    expect(count).toBe(Number(registered.stdout.trim()));
    expect(count).toBeGreaterThan(50);
    writeFileSync(
      join(dir, 'use-it.ts'),
      `import { createApp } from 'celery-wire';
import { pythonTasks } from './it.js';
const t = pythonTasks(createApp({}));
export const a = t.add.delay(1, 2);
export const b = t.ids.delay(0);
`,
    );
    expect(await tsc(['it.ts', 'use-it.ts'])).toEqual({ ok: true, out: '' });
  });
});

describe('generated handles call real Celery', () => {
  let py: PythonWorker | undefined;
  const queue = `stubs-${String(process.pid)}`;
  beforeAll(async () => {
    py = await startPythonWorker({
      line: '5.7',
      brokerUrl: REDIS,
      resultBackend: REDIS,
      queues: queue,
    });
  });
  afterAll(async () => {
    await py?.stop();
  });

  it('the conformance app stubs send conformance.add to a Python 5.7 worker', async () => {
    const res = await stubs([
      '-A',
      'peer.app',
      '--python',
      join(peers, '.venv-5.7', 'bin', 'python'),
      '--cwd',
      peers,
      '-o',
      join(dir, 'conformance.ts'),
    ]);
    expect(res.code).toBe(0);
    writeFileSync(
      join(dir, 'call.ts'),
      `import { createApp } from 'celery-wire';
import { pythonTasks } from './conformance.js';
const app = createApp({ brokerUrl: ${JSON.stringify(REDIS)}, resultBackend: ${JSON.stringify(REDIS)}, taskDefaultQueue: ${JSON.stringify(queue)} });
try {
  const t = pythonTasks(app);
  console.log(String(await (await t.add.delay(2n ** 70n, 1)).get({ timeout: 20 })));
} finally {
  await app.close();
}
`,
    );
    expect(await tsc(['conformance.ts', 'call.ts'])).toEqual({ ok: true, out: '' });
    const { stdout } = await run(
      process.execPath,
      [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(dir, 'call.ts')],
      { cwd: dir },
    );
    expect(stdout.trim()).toBe('1180591620717411303425');
  });
});
