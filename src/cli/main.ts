import { readFile } from 'node:fs/promises';
import { decodeCommand } from './decode';
import type { CliIo } from './io';

const USAGE = `usage: celery-wire <command> [options]

commands:
  decode [FILE|-]   print what is really in one raw Celery message (Redis envelope or AMQP JSON)
  call TASK         send a task to a Celery worker and print its result
  worker            run a TypeScript worker (--app PATH -Q queues -c N -n name@host)
  beat -A APP       send the app's periodic tasks, as celery beat (RedBeat-compatible)
  stubs -A APP      write TypeScript typed handles for a Python Celery app's tasks
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The process-backed IO used by the real binary. */
export const processIo: CliIo = {
  readInput: (path) => (path === undefined ? readStdin() : readFile(path, 'utf8')),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Entry point of `celery-wire`; resolves to the process exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'decode':
      return decodeCommand(rest, io);
    // Loaded lazily so that `decode` never pays for broker drivers.
    case 'call':
      return (await import('./call.js')).callCommand(rest, io);
    case 'worker':
      return (await import('./worker.js')).workerCommand(rest, io);
    case 'beat':
      return (await import('./beat.js')).beatCommand(rest, io);
    case 'stubs':
      return (await import('./stubs.js')).stubsCommand(rest, io);
    case undefined:
    case '-h':
    case '--help':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`celery-wire: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
