import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { peerBin, repoRoot } from './procs';

/** The machine and versions a run measured on, as lines of the report. */
export async function environment(redisUrl: string, amqpUrl: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  const info = await redis.info('server');
  redis.disconnect();
  const conn = await connect(amqpUrl);
  const props = conn.connection.serverProperties as Record<string, unknown>;
  await conn.close();
  const celery = existsSync(peerBin('celery'))
    ? execFileSync(peerBin('celery'), ['--version'], { encoding: 'utf8' }).trim()
    : 'missing';
  const cnPkg = join(
    repoRoot,
    'bench',
    'celery-node',
    'node_modules',
    'celery-node',
    'package.json',
  );
  const cn = existsSync(cnPkg)
    ? (JSON.parse(readFileSync(cnPkg, 'utf8')) as { version: string }).version
    : 'missing';
  const cpu = cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- CPU: ${cpu[0]?.model ?? '?'}, ${String(cpu.length)} cores`,
    `- load average at start (1/5/15 min): ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}`,
    `- Node ${process.version}; Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}; RabbitMQ ${String(props.version)}; Celery ${celery}; celery-node ${cn}`,
  ];
}

export function loadLine(): string {
  return `- load average at end (1/5/15 min): ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')}`;
}
