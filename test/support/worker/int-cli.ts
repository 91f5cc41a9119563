import { workerCommand } from '../../../src/cli/worker';

/** `celery-wire worker` entry for integration tests (run under tsx, no build needed). */
workerCommand(process.argv.slice(2), {
  readInput: () => Promise.resolve(''),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
