import { connect } from 'amqplib';
import { Redis } from 'ioredis';

/**
 * The physical limit of the client libraries on this box, with no Celery logic at all:
 *   raw.ts redis URL QUEUE N BYTES  →  LPUSH of a BYTES-long envelope, pipelines of 1,000
 *   raw.ts amqp  URL QUEUE N BYTES  →  amqplib confirm channel, N publishes, one waitForConfirms
 * Prints {"rate": messages/s}.
 */
async function main(): Promise<void> {
  const [kind = 'redis', url = '', queue = 'bench', count = '20000', bytes = '900'] =
    process.argv.slice(2);
  const n = Number(count);
  const body = Buffer.alloc(Number(bytes), 'x');
  if (kind === 'redis') {
    const redis = new Redis(url);
    const text = body.toString('utf8');
    const push = async (k: number): Promise<void> => {
      const sent = [];
      for (let i = 0; i < k; i += 1000) {
        const p = redis.pipeline();
        for (let j = i; j < Math.min(k, i + 1000); j++) p.lpush(queue, text);
        sent.push(p.exec());
      }
      await Promise.all(sent);
    };
    await push(2000);
    const t0 = performance.now();
    await push(n);
    process.stdout.write(`${JSON.stringify({ rate: n / ((performance.now() - t0) / 1000) })}\n`);
    await redis.del(queue);
    redis.disconnect();
    return;
  }
  const conn = await connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  const opts = { contentType: 'application/json', deliveryMode: 2, headers: { task: 'add' } };
  const publish = async (k: number): Promise<void> => {
    for (let i = 0; i < k; i++) {
      if (!ch.publish('', queue, body, opts)) await new Promise((r) => ch.once('drain', r));
    }
    await ch.waitForConfirms();
  };
  await publish(2000);
  const t0 = performance.now();
  await publish(n);
  process.stdout.write(`${JSON.stringify({ rate: n / ((performance.now() - t0) / 1000) })}\n`);
  await ch.deleteQueue(queue);
  await conn.close();
}

void main();
