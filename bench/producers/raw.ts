import { connect, type Options } from 'amqplib';
import { Redis } from 'ioredis';

/**
 * The physical limit of the client libraries on this box, with no Celery logic at all:
 *   raw.ts redis URL QUEUE N BYTES  →  LPUSH of a BYTES-long envelope, pipelines of 1,000
 *   raw.ts amqp  URL QUEUE N BYTES  →  amqplib confirm channel, N publishes, one waitForConfirms
 *   raw.ts amqp-celery URL QUEUE N  →  the same, each publish carrying the properties and the
 *     ~20-field header table a Celery 5.7 `send_task` writes (protocol v2), ids varying per
 *     message: what amqplib alone costs for a Celery message (its `encodeTable` is most of it)
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
  const plain = { contentType: 'application/json', deliveryMode: 2, headers: { task: 'add' } };
  const celeryBody = Buffer.from(
    '[[1, 2], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]',
  );
  const publish = async (k: number): Promise<void> => {
    for (let i = 0; i < k; i++) {
      const ok =
        kind === 'amqp-celery'
          ? ch.publish('', queue, celeryBody, celeryProperties(i))
          : ch.publish('', queue, body, plain);
      if (!ok) await new Promise((r) => ch.once('drain', r));
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

/** The AMQP properties of a Celery 5.7 `send_task('conformance.add', (1, 2))`, id `i`. */
function celeryProperties(i: number): Options.Publish {
  const id = `0b6f3a4e-1c2d-4e5f-8a9b-${String(i).padStart(12, '0')}`;
  return {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    priority: 0,
    correlationId: id,
    replyTo: 'b1c2d3e4-aaaa-bbbb-cccc-000000000000',
    headers: {
      lang: 'py',
      task: 'conformance.add',
      id,
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: id,
      parent_id: null,
      argsrepr: '(1, 2)',
      kwargsrepr: '{}',
      origin: 'gen1234@host',
      ignore_result: false,
      replaced_task_nesting: 0,
      stamped_headers: null,
      stamps: {},
    },
  };
}
