import { execFile } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * What users install: `npm pack` holds the library and nothing else, and the packed tarball is
 * importable from ESM (`.mjs`), CommonJS (`.cjs`) and TypeScript with `moduleResolution:
 * nodenext`. The tarball is unpacked into a scratch project; its runtime dependencies are linked
 * from this repo's node_modules (same versions as the lock, and no registry needed).
 */
const root = resolve(__dirname, '..', '..');
const run = promisify(execFile);

interface PackedFile {
  path: string;
}

async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout) as [{ files: PackedFile[] }];
  return info.files.map((f) => f.path);
}

describe('the committed lock file', () => {
  it("satisfies npm ci on a fresh checkout (every platform's optional binaries listed)", async () => {
    // A copy of package.json + lock alone, as on a fresh clone; --dry-run checks the lock is in
    // sync with package.json without touching this repo's node_modules.
    const dir = mkdtempSync(join(tmpdir(), 'celery-wire-lock-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) {
        writeFileSync(join(dir, f), readFileSync(join(root, f)));
      }
      await expect(
        run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
          cwd: dir,
        }),
      ).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm pack', () => {
  it('ships the library only: no tests, test helpers, benches, demo apps or fixtures', async () => {
    const files = await packedFiles();
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/wire.js');
    expect(files).toContain('bin/celery-wire.js');
    const offenders = files.filter(
      (f) =>
        /\.test\.|(^|\/)(test|tests|testing|test-support|bench|conformance|conformance-app|fixtures|protocol-fixtures|python-peers|examples)\//.test(
          f,
        ) || !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE)/.test(f),
    );
    expect(offenders).toEqual([]);
  });
});

describe('the packed tarball, imported as a user would', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'celery-wire-consumer-'));
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    );
    const [info] = JSON.parse(stdout) as [{ filename: string }];
    const pkg = join(dir, 'node_modules', 'celery-wire');
    mkdirSync(pkg, { recursive: true });
    await run('tar', ['-xzf', join(dir, info.filename), '-C', pkg, '--strip-components=1']);
    // The package's own dependencies (and @types/node for the TS consumer) from this repo.
    const deps = JSON.parse(
      (
        await run('node', ['-p', 'JSON.stringify(require("./package.json").dependencies)'], {
          cwd: pkg,
        })
      ).stdout,
    ) as Record<string, string>;
    for (const name of [...Object.keys(deps), '@types/node']) {
      const target = join(dir, 'node_modules', name);
      mkdirSync(resolve(target, '..'), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), target, 'dir');
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const program = `
    const cw = CW;
    const wire = WIRE;
    const out = {
      createApp: typeof cw.createApp,
      defineTask: typeof cw.defineTask,
      chain: typeof cw.chain,
      TaskFailedError: typeof cw.TaskFailedError,
      roundTrip: wire.pyJsonDumps(wire.pyJsonLoads('{"a": 1.0, "b": 1180591620717411303424}')),
    };
    console.log(JSON.stringify(out));
  `;
  const expected = {
    createApp: 'function',
    defineTask: 'function',
    chain: 'function',
    TaskFailedError: 'function',
    roundTrip: '{"a": 1.0, "b": 1180591620717411303424}',
  };

  it('from an ES module (.mjs)', async () => {
    const file = join(dir, 'consumer.mjs');
    writeFileSync(
      file,
      `import * as CWNS from 'celery-wire';\nimport * as WIRENS from 'celery-wire/wire';\n` +
        program.replace('CW', 'CWNS').replace('WIRE', 'WIRENS'),
    );
    const { stdout } = await run('node', [file], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
    // Named imports resolve too (cjs-module-lexer sees tsc's export getters).
    const named = join(dir, 'named.mjs');
    writeFileSync(
      named,
      `import { createApp, defineTask } from 'celery-wire';\nimport { pyJsonDumps } from 'celery-wire/wire';\n` +
        `console.log(typeof createApp, typeof defineTask, pyJsonDumps([1n]));\n`,
    );
    expect((await run('node', [named], { cwd: dir })).stdout.trim()).toBe('function function [1]');
  });

  it('from CommonJS (.cjs)', async () => {
    const file = join(dir, 'consumer.cjs');
    writeFileSync(
      file,
      program
        .replace('CW', "require('celery-wire')")
        .replace('WIRE', "require('celery-wire/wire')"),
    );
    const { stdout } = await run('node', [file], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('from TypeScript with moduleResolution nodenext (types resolve, a wrong type is an error)', async () => {
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
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const good = `
      import { createApp, defineTask, type CeleryConfig, type PyValue } from 'celery-wire';
      import { pyJsonDumps } from 'celery-wire/wire';
      export const config: Partial<CeleryConfig> = { brokerUrl: 'redis://127.0.0.1:6379/0' };
      export const tasks = [defineTask('t.add', (a: PyValue, b: PyValue) => Number(a) + Number(b))];
      export const app = createApp({ resultBackend: 'disabled' });
      export const s: string = pyJsonDumps({ a: 1 });
    `;
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(join(dir, 'consumer.ts'), good);
    await run('node', [tsc, '-p', dir], { cwd: dir });
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { createApp } from 'celery-wire';\nexport const app = createApp({ brokerUrl: 42 });\n`,
    );
    await expect(run('node', [tsc, '-p', dir], { cwd: dir })).rejects.toMatchObject({
      stdout: expect.stringContaining(
        "error TS2322: Type 'number' is not assignable to type 'string | readonly string[] | undefined'",
      ) as unknown,
    });
  });

  it('unpacked tree holds no source maps pointing at missing sources', () => {
    // declarationMap/sourceMap point into ../src, which is not shipped: a user's debugger would
    // show nothing. The package ships dist only, so the maps must not be there either.
    const list = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? list(join(d, e.name)) : [join(d, e.name)],
      );
    const maps = list(join(dir, 'node_modules', 'celery-wire', 'dist')).filter((f) =>
      f.endsWith('.map'),
    );
    expect(maps).toEqual([]);
  });
});
