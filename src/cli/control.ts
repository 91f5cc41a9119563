import { createApp } from '../app/app';
import type { NodeReply } from '../control/mailbox-client';
import { pyRepr } from '../protocol/repr';
import { pyJsonDumps } from '../serialization/python-json';
import { isPyDict, PyFloat, type PyValue } from '../serialization/py-values';
import { COMMANDS, compileArguments } from './control-meta';
import type { CliIo } from './io';

const USAGE = (
  kind: string,
): string => `usage: celery-wire ${kind} ${kind === 'status' ? '' : 'COMMAND [ARGS…] '}[options]

  -b, --broker URL        broker URL (default $CELERY_BROKER_URL, else redis://127.0.0.1:6379/0)
  -t, --timeout SECS      timeout in seconds waiting for reply (default 1.0)
  -d, --destination LIST  comma separated list of destination node names
  -j, --json              use json as output format
      --list              list available ${kind} commands and exit
  -h, --help              show this help

Output, arguments and exit status (69 when no node replied) are Celery's \`celery ${kind}\`.
`;

/** `EX_UNAVAILABLE` (`celery/platforms.py`). */
const EX_UNAVAILABLE = 69;

interface Parsed {
  command?: string;
  args: string[];
  timeout: number;
  destination?: string[];
  json: boolean;
  broker?: string;
  help: boolean;
  list: boolean;
}

function parse(argv: readonly string[]): Parsed {
  const p: Parsed = { args: [], timeout: 1.0, json: false, help: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => (eq > 0 ? a.slice(eq + 1) : (argv[++i] ?? ''));
    if (flag === '-t' || flag === '--timeout') p.timeout = Number(value());
    else if (flag === '-d' || flag === '--destination') p.destination = value().split(',');
    else if (flag === '-j' || flag === '--json') p.json = true;
    else if (flag === '-b' || flag === '--broker') p.broker = value();
    else if (flag === '-h' || flag === '--help') p.help = true;
    else if (flag === '--list') p.list = true;
    else if (p.command === undefined) p.command = a;
    else p.args.push(a);
  }
  return p;
}

const indent = (s: string, n: number): string =>
  s
    .split('\n')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n');

function sortedJson(v: PyValue): unknown {
  // A marker replaced after stringify, so `120.0` stays `120.0` as Python's json.dumps writes it.
  if (v instanceof PyFloat) return `\u0000f:${pyJsonDumps(v)}`;
  if (typeof v === 'number' && !Number.isInteger(v)) return `\u0000f:${pyJsonDumps(v)}`;
  if (Array.isArray(v)) return v.map(sortedJson);
  if (isPyDict(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortedJson(v[k] as PyValue)]),
    );
  }
  return v;
}

/** `CLIContext.pretty` (`celery/bin/base.py`) without colour: (status, text). */
export function pretty(n: PyValue): [string, string] {
  if (Array.isArray(n)) {
    const items = n as PyValue[];
    return [
      'OK',
      items.length === 0
        ? '- empty -'
        : items.map((x) => `* ${typeof x === 'string' ? x : pyRepr(x)}`).join('\n'),
    ];
  }
  if (isPyDict(n)) {
    if ('ok' in n) return ['OK', indent(pretty(n.ok ?? null)[1], 4)];
    if ('error' in n) return ['ERROR', indent(pretty(n.error ?? null)[1], 4)];
    const text = JSON.stringify(sortedJson(n), null, 4);
    return ['OK', text.replace(/"\\u0000f:([^"]*)"/g, '$1')];
  }
  if (typeof n === 'string') return ['OK', n];
  return ['OK', pyRepr(n)];
}

/** `_say_remote_command_reply`: `->  node: OK` and, for inspect/control, the indented body. */
function sayReply(io: CliIo, r: NodeReply, showReply: boolean): void {
  const node = Object.keys(r)[0] ?? '';
  const [status, body] = pretty(r[node] ?? null);
  io.stdout(`->  ${node}: ${status}\n`);
  if (showReply && body !== '') io.stdout(`${indent(body, 4)}\n`);
}

function listCommands(io: CliIo, kind: 'inspect' | 'control'): void {
  io.stdout(`${kind === 'inspect' ? 'Inspect' : 'Control'} Commands:\n`);
  const rows = Object.entries(COMMANDS)
    .filter(([, m]) => m.type === kind && m.visible !== false)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, m]) => [m.signature ? `${name} ${m.signature}` : name, m.help] as const);
  const w = Math.min(30, Math.max(...rows.map(([a]) => a.length)));
  for (const [a, h] of rows) io.stdout(`  ${a.padEnd(w)}  ${h}\n`);
}

/** `celery inspect` / `celery control` / `celery status` (`celery/bin/control.py`). */
export async function controlCommand(
  kind: 'inspect' | 'control' | 'status',
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const p = parse(argv);
  if (p.help) {
    io.stdout(USAGE(kind));
    return 0;
  }
  if (p.list && kind !== 'status') {
    listCommands(io, kind);
    return 0;
  }
  const command = kind === 'status' ? 'ping' : p.command;
  if (command === undefined) {
    io.stderr(`${USAGE(kind)}\nError: Missing argument 'COMMAND'.\n`);
    return 2;
  }
  const meta = COMMANDS[command];
  if (kind !== 'status' && (meta?.type !== kind || meta.visible === false)) {
    const names = Object.keys(COMMANDS)
      .filter((k) => COMMANDS[k]?.type === kind && COMMANDS[k].visible !== false)
      .sort()
      .join(', ');
    io.stderr(`Error: Command ${command} not recognized. Available ${kind} commands: ${names}\n`);
    return 2;
  }
  let args: Record<string, PyValue>;
  try {
    args = kind === 'status' ? {} : compileArguments(command, p.args);
  } catch (e) {
    io.stderr(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const brokerUrl = p.broker ?? process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0';
  const app = createApp({ brokerUrl, resultBackend: 'disabled' });
  try {
    const replies =
      (await app.control.broadcast(command, args, {
        reply: true,
        timeout: p.timeout,
        destination: p.destination ?? null,
        ...(p.json
          ? {}
          : {
              callback: (r: NodeReply) => {
                sayReply(io, r, kind !== 'status');
              },
            }),
      })) ?? [];
    if (replies.length === 0) {
      io.stderr('Error: No nodes replied within time constraint\n');
      return EX_UNAVAILABLE;
    }
    const byNode: Record<string, PyValue> = {};
    for (const r of replies) Object.assign(byNode, r);
    // `control` prints the reply list as `broadcast` returns it and no node count; `inspect`
    // prints replies by node, the count only without --json; `status` always counts.
    if (kind === 'control') {
      if (p.json) io.stdout(`${pyJsonDumps(replies)}\n`);
      return 0;
    }
    if (p.json) io.stdout(`${pyJsonDumps(byNode)}\n`);
    if (p.json && kind === 'inspect') return 0;
    const n = Object.keys(byNode).length;
    io.stdout(`\n${String(n)} ${n === 1 ? 'node' : 'nodes'} online.\n`);
    return 0;
  } catch (e) {
    io.stderr(
      `Error: Unable to run the \`${kind === 'status' ? 'status' : `${kind} ${command}`}\` command. Reason: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return EX_UNAVAILABLE;
  } finally {
    await app.close().catch(() => undefined);
  }
}
