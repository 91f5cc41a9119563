import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp } from '../app/app';
import { AMQP_URL, REDIS_URL } from '../../test/support/client/scenarios';
import { BackendError } from '../errors/errors';
import { applyCanvas, chord } from './index';
import { nodeStartedOnPython, sq } from '../../test/support/canvas/py-suite';

// Node builds and publishes the canvas; a real Python worker runs every task (and, for chords,
// Celery's own Redis join reads the `.s` size our client wrote).
nodeStartedOnPython({ broker: REDIS_URL, backend: REDIS_URL, line: '5.7' });
nodeStartedOnPython({ broker: REDIS_URL, backend: REDIS_URL, line: '5.2' });
nodeStartedOnPython({ broker: AMQP_URL, backend: REDIS_URL, line: '5.7' });

describe('chords on the rpc backend', () => {
  it('are refused before anything is published, like Celery (NotImplementedError)', async () => {
    const queue = `cw-rpc-chord-${randomUUID().slice(0, 8)}`;
    const app = createApp({
      env: {},
      brokerUrl: REDIS_URL,
      resultBackend: 'rpc://',
      taskDefaultQueue: queue,
    });
    try {
      await expect(
        applyCanvas(chord([sq(queue, 'add', 1, 1)], sq(queue, 'tsum')), app),
      ).rejects.toThrow(BackendError);
      const redis = new Redis(REDIS_URL);
      expect(await redis.llen(queue)).toBe(0);
      redis.disconnect();
    } finally {
      await app.close();
    }
  });
});
