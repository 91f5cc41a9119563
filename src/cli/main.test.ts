import type { CliIo } from './io';
import { decodeCommand } from './decode';
import { main } from './main';
import { workerCommand } from './worker';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      readInput: () => Promise.resolve(''),
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
    },
    out: () => out,
    err: () => err,
  };
}

// `worker` and `call` are imported lazily by `main` (no dynamic import under jest's VM): their
// routing is covered by `cli-help.int.test.ts` against the built binary.
describe('--help on the CLI (main, worker, decode)', () => {
  it.each([
    ['main --help', (io: CliIo) => main(['--help'], io), 'usage: celery-wire <command>'],
    ['main -h', (io: CliIo) => main(['-h'], io), 'usage: celery-wire <command>'],
    ['main help decode', (io: CliIo) => main(['help', 'decode'], io), 'usage: celery-wire decode'],
    ['decode --help', (io: CliIo) => decodeCommand(['--help'], io), 'usage: celery-wire decode'],
    ['worker --help', (io: CliIo) => workerCommand(['--help'], io), 'usage: celery-wire worker'],
    ['worker -h', (io: CliIo) => workerCommand(['-h'], io), 'usage: celery-wire worker'],
  ])('%s prints its usage and exits 0', async (_n, run, usage) => {
    const c = capture();
    expect(await run(c.io)).toBe(0);
    expect(c.out()).toContain(usage);
    expect(c.err()).toBe('');
  });

  it('an unknown option or command exits 2 with the usage on stderr', async () => {
    const w = capture();
    expect(await workerCommand(['--bogus'], w.io)).toBe(2);
    expect(w.err()).toContain('unknown option --bogus');
    const m = capture();
    expect(await main(['nope'], m.io)).toBe(2);
    expect(m.err()).toContain("unknown command 'nope'");
  });

  it('a missing app module is one line, exit 1, no stack trace', async () => {
    const c = capture();
    expect(await workerCommand(['--app', 'no/such/app.ts'], c.io)).toBe(1);
    expect(c.err()).toMatch(
      /^celery-wire worker: cannot load app no\/such\/app.ts: app module not found: .*\n$/,
    );
  });
});
