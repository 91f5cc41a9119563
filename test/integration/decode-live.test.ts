import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pyJsonLoads } from '../../src/serialization/python-json';
import { isPyDict } from '../../src/serialization/py-values';

/**
 * End to end: real Python Celery (each pinned line) fills a live Redis queue, and the built
 * `celery-wire decode` binary reads every raw entry from stdin.
 */
const root = resolve(__dirname, '..', '..');
const bin = join(root, 'bin', 'celery-wire.js');
const run = promisify(execFile);

interface Captured {
  case: string;
  key: string;
  entry: string;
}

function decodeWithBinary(input: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, 'decode', '-'], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', rej);
    child.on('close', (code) => {
      res({ code: code ?? -1, out, err });
    });
    child.stdin.end(input);
  });
}

describe.each(['5.7', '5.2'])(
  'decode CLI on messages Celery %s put in a live Redis list',
  (line) => {
    let captured: Captured[] = [];

    beforeAll(async () => {
      expect(existsSync(join(root, 'dist', 'cli', 'main.js'))).toBe(true); // `npm run build` first
      const py = join(root, 'python-peers', `.venv-${line}`, 'bin', 'python');
      const { stdout } = await run(py, [join(root, 'python-peers', 'capture.py')], {
        cwd: join(root, 'python-peers'),
        env: {
          ...process.env,
          CAPTURE_REDIS_URL: process.env.REDIS_URL_CAPTURE ?? 'redis://127.0.0.1:6379/15',
        },
      });
      captured = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Captured);
    });

    it('captured every case', () => {
      expect(captured.map((c) => c.case).sort()).toEqual(
        ['v1-json', 'v2-json', 'v2-json-eta-priority', 'v2-json-gzip', 'v2-msgpack'].sort(),
      );
    });

    it('decodes each raw entry with exit status 0', async () => {
      for (const c of captured) {
        const { code, out, err } = await decodeWithBinary(c.entry);
        expect({ case: c.case, code, err }).toEqual({ case: c.case, code: 0, err: '' });
        const doc = pyJsonLoads(out);
        if (!isPyDict(doc)) throw new Error('not an object');
        expect(doc.task).toBe('conformance.add');
        expect(doc.args).toEqual([2, 3]);
        expect(doc.protocol).toBe(c.case.startsWith('v1') ? 1 : 2);
        if (c.case.includes('gzip')) expect(doc.compression).toBe('application/x-gzip');
        if (c.case.includes('priority')) {
          expect(c.key).toBe('capture-q\x06\x163');
          expect(isPyDict(doc.headers) && typeof doc.headers.eta).toBe('string');
        }
      }
    });

    it('rejects a damaged entry with exit status 2 and one line', async () => {
      const first = captured[0];
      if (first === undefined) throw new Error('nothing captured');
      const { code, err } = await decodeWithBinary(first.entry.slice(0, 40));
      expect(code).toBe(2);
      expect(err.trimEnd().split('\n')).toHaveLength(1);
    });
  },
);
