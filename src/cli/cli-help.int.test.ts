import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'bin', 'celery-wire.js');

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout) => {
      res({ code: err ? Number(err.code ?? 1) : 0, out: stdout });
    });
  });
}

/** The built binary (`npm run build`) routes `--help` to every subcommand. */
describe('celery-wire <command> --help (built binary)', () => {
  it.each([
    [['worker', '--help'], 'usage: celery-wire worker'],
    [['call', '--help'], 'usage: celery-wire call'],
    [['decode', '--help'], 'usage: celery-wire decode'],
    [['--help'], 'usage: celery-wire <command>'],
    [['help', 'call'], 'usage: celery-wire call'],
  ])('%j', async (args, usage) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.out).toContain(usage);
  });
});
