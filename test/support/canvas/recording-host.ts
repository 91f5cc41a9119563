import type { ClientSettings } from '../../../src/client/client';
import type { CeleryProfileName } from '../../../src/protocol/profiles';
import type { PyValue } from '../../../src/serialization/py-values';
import type { CanvasHost } from '../../../src/canvas/apply';
import { encodeCanvasTask } from '../../../src/canvas/host';

type Dict = Record<string, PyValue>;

/** Client settings of the fixture generator's app (`python-peers/fixtures/env.py`). */
export const settings = (line: string, protocol: 1 | 2): ClientSettings => ({
  taskSerializer: 'json',
  taskCompression: null,
  taskProtocol: protocol,
  taskDefaultDeliveryMode: 2,
  // kombu < 5.3 (lines 4.4–5.2) writes json without `__type__` tags.
  jsonDialect: ['4.4', '5.0', '5.1', '5.2'].includes(line) ? 'kombu-legacy' : 'kombu-5.3',
  controlExchange: 'celery',
  taskRoutes: null,
  taskDefaultQueue: 'celery',
  taskDefaultExchange: null,
  taskDefaultExchangeType: 'direct',
  taskDefaultRoutingKey: null,
  taskQueueMaxPriority: null,
});

export interface Recorded {
  events: string[];
  messages: {
    name: string;
    args: readonly PyValue[];
    options: Readonly<Dict>;
    body: string;
    headers: Dict;
    correlationId: unknown;
  }[];
}

export function recordingHost(line: string, protocol: 1 | 2): CanvasHost & { rec: Recorded } {
  let n = 0;
  const profile = `celery-${line}` as CeleryProfileName;
  const rec: Recorded = { events: [], messages: [] };
  return {
    rec,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    oid: '11111111-2222-3333-4444-555555555555',
    profile,
    protocol,
    sendTask(name, args, kwargs, options) {
      const { id, message } = encodeCanvasTask(
        settings(line, protocol),
        profile,
        {
          now: new Date('2026-01-02T03:04:05.678Z'),
          origin: 'gen4242@fixture-host',
          oid: this.oid,
        },
        name,
        args,
        kwargs,
        options,
      );
      rec.events.push(`send ${id}`);
      // kombu's virtual transport draws the delivery tag from the same uuid() the fixture
      // generator pins (`Channel._next_delivery_tag`), so every publish consumes one id.
      n++;
      rec.messages.push({
        name,
        args,
        options,
        body: Buffer.from(message.body).toString('base64'),
        headers: message.headers,
        correlationId: message.properties.correlation_id,
      });
      return Promise.resolve();
    },
    setChordSize(gid, size) {
      rec.events.push(`size ${gid} ${String(size)}`);
      return Promise.resolve();
    },
    ensureChordsAllowed: () => Promise.resolve(),
  };
}
