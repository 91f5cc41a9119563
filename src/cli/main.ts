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
  inspect COMMAND   inspect workers, as celery inspect (ping, stats, active, registered, conf…)
  control COMMAND   send workers a control command, as celery control (revoke, rate_limit…)
  status            list the workers online, as celery status

Run \`celery-wire <command> --help\` for a command's options.
`;

const isHelp = (a: string | undefined): boolean => a === '-h' || a === '--help';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves once everything written to `stream` so far reached the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => {
      resolve();
    });
  });
}

/** The process-backed IO used by the real binary. */
export const processIo: CliIo = {
  readInput: (path) => (path === undefined ? readStdin() : readFile(path, 'utf8')),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  exit: async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  },
};

/** Entry point of `celery-wire`; resolves to the process exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'decode':
      return decodeCommand(rest, io);
    // Loaded lazily so that `decode` never pays for broker drivers.
    case 'call': {
      const call = await import('./call.js');
      if (isHelp(rest[0])) {
        io.stdout(call.CALL_USAGE);
        return 0;
      }
      return call.callCommand(rest, io);
    }
    case 'worker':
      return (await import('./worker.js')).workerCommand(rest, io);
    case 'beat':
      return (await import('./beat.js')).beatCommand(rest, io);
    case 'stubs':
      return (await import('./stubs.js')).stubsCommand(rest, io);
    case 'inspect':
    case 'control':
    case 'status':
      return (await import('./control.js')).controlCommand(command, rest, io);
    case undefined:
      io.stderr(USAGE);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      if (command === 'help' && rest[0] !== undefined) return main([rest[0], '--help'], io);
      io.stdout(USAGE);
      return 0;
    default:
      io.stderr(`celery-wire: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
