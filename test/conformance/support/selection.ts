import { CELERY_LINES, type CeleryLine } from '../../../src/config/config';

/**
 * Which Celery lines / transports the matrix runs (`npm run conformance` reads the environment, so
 * a quick run stays quick):
 * - `CONFORMANCE_LINES=5.7,5.2` (default), `all`, or any of 4.4 5.0 5.1 5.2 5.3 5.4 5.5 5.6 5.7;
 * - `CONFORMANCE_TRANSPORTS=…`, any of {@link TRANSPORT_KEYS} (default: all of them). A transport
 *   runs only for the lines that have such an estate ({@link transportRunsOn}).
 * Unknown names throw, so a typo never turns into an empty (green) matrix.
 */
export const DEFAULT_LINES: readonly CeleryLine[] = ['5.7', '5.2'];

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function selectedLines(raw: string | undefined): CeleryLine[] {
  const names = list(raw);
  if (names.length === 0) return [...DEFAULT_LINES];
  if (names.length === 1 && names[0] === 'all') return [...CELERY_LINES];
  return names.map((n) => {
    const line = CELERY_LINES.find((l) => l === n);
    if (line === undefined) {
      throw new Error(`CONFORMANCE_LINES: unknown Celery line ${n} (${CELERY_LINES.join(', ')})`);
    }
    return line;
  });
}

export const TRANSPORT_KEYS = [
  'redis',
  'amqp-redis',
  'amqp-rpc',
  'amqp-quorum',
  'sqs',
  'redis-sentinel',
  'redis-tls',
  'redis-options',
] as const;
export type TransportKey = (typeof TRANSPORT_KEYS)[number];
/** Run by default: every transport, each on the lines that support it. */
export const DEFAULT_TRANSPORT_KEYS: readonly TransportKey[] = TRANSPORT_KEYS;

/**
 * Whether a transport has a row for a Celery line:
 * - `amqp-quorum`: quorum-queue estates exist from Celery 5.5 on (`task_default_queue_type`);
 * - `sqs`: the lines issue 13 asks for and that have the peer venvs (`python-peers/bootstrap-sqs.sh`
 *   builds `.venv-5.7-sqs` and `.venv-5.2-sqs`);
 * - `redis-sentinel`, `redis-tls`: 5.7, 5.2 and 4.4, the lines issue 10 asks for;
 * - `redis-options`: every line, each with the options its kombu and Celery have.
 */
export function transportRunsOn(key: TransportKey, line: CeleryLine): boolean {
  switch (key) {
    case 'amqp-quorum':
      return line >= '5.5';
    case 'sqs':
      return line === '5.7' || line === '5.2';
    case 'redis-sentinel':
    case 'redis-tls':
      return line === '5.7' || line === '5.2' || line === '4.4';
    case 'redis':
    case 'amqp-redis':
    case 'amqp-rpc':
    case 'redis-options':
      return true;
  }
}

export function selectedTransports(raw: string | undefined): TransportKey[] {
  const names = list(raw);
  if (names.length === 0) return [...DEFAULT_TRANSPORT_KEYS];
  return names.map((n) => {
    const key = TRANSPORT_KEYS.find((k) => k === n);
    if (key === undefined) {
      throw new Error(`CONFORMANCE_TRANSPORTS: unknown ${n} (${TRANSPORT_KEYS.join(', ')})`);
    }
    return key;
  });
}
