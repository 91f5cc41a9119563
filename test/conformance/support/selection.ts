import { CELERY_LINES, type CeleryLine } from '../../../src/config/config';

/**
 * Which Celery lines / transports the matrix runs (`npm run conformance` reads the environment, so
 * a quick run stays quick):
 * - `CONFORMANCE_LINES=5.7,5.2` (default), `all`, or any of 4.4 5.0 5.1 5.2 5.3 5.4 5.5 5.6 5.7;
 * - `CONFORMANCE_TRANSPORTS=redis,amqp-redis,amqp-rpc` (the default) or `amqp-quorum` (RabbitMQ
 *   quorum-queue estate, results in Redis; Celery 5.5+ only).
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

export const TRANSPORT_KEYS = ['redis', 'amqp-redis', 'amqp-rpc', 'amqp-quorum'] as const;
/** Run by default; `amqp-quorum` (RabbitMQ quorum queues, issue 9) only when asked for. */
export const DEFAULT_TRANSPORT_KEYS: readonly TransportKey[] = ['redis', 'amqp-redis', 'amqp-rpc'];
export type TransportKey = (typeof TRANSPORT_KEYS)[number];

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
