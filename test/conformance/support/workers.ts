import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startPythonWorker } from '../../support/client/python-worker';
import { startSqsPythonWorker } from '../../support/sqs';
import { startNodeWorker } from '../../support/node-worker';
import type { Transport } from './run-node-to-python';
import type { CeleryLine } from '../../../src/config/config';

const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');

/** A running worker of either language. */
export interface PeerWorker {
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real Celery worker (python-peers/worker.sh) of the given line on one queue; on SQS the
 * `kombu[sqs]` venv's worker as the SQS suites start it (no events: SQS has no fanout).
 */
export function startPython(line: CeleryLine, t: Transport, queue: string): Promise<PeerWorker> {
  if (t.sqsWorker === true) {
    if (line !== '5.7' && line !== '5.2') throw new Error(`no SQS venv for Celery ${line}`);
    return startSqsPythonWorker(
      line,
      {
        ...process.env,
        PYTHONPATH: PEERS,
        CELERY_BROKER_URL: t.brokerUrl,
        CELERY_RESULT_BACKEND: t.resultBackend,
        CELERY_SEND_EVENTS: '0',
      },
      queue,
    );
  }
  return startPythonWorker({
    line,
    brokerUrl: t.brokerUrl,
    resultBackend: t.resultBackend,
    queues: queue,
    nodename: `py-${queue}@%h`,
  });
}

/**
 * celery-wire's own worker, started the way a user would: the built CLI with the TypeScript
 * conformance catalogue (`celery-wire worker --app … -Q …`).
 */
export function startNode(line: CeleryLine, t: Transport, queue: string): Promise<PeerWorker> {
  const app = join(ROOT, 'conformance', 'app', 'index.ts');
  if (!existsSync(app)) throw new Error(`${app} missing: run \`npm run build\` first`);
  return startNodeWorker({
    args: ['--app', app, '-Q', queue, '-n', `ts-${queue}@%h`, '-c', '8'].concat([
      '--broker',
      t.brokerUrl,
      '--backend',
      t.resultBackend,
      '--celery-line',
      line,
    ]),
  });
}
