import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * Private servers of the estates the matrix runs on (SQS, Sentinel, TLS), started by the harness
 * itself on 127.0.0.1 with ports picked at random in 20000–29999, so `npm run conformance` needs
 * nothing beforehand. Each is started once per run, on first use, and stopped after the run.
 */
const ROOT = resolve(__dirname, '..', '..', '..');
const SCRIPTS = join(ROOT, 'scripts');
const run = promisify(execFile);

function isFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => {
      res(false);
    });
    s.listen(port, '127.0.0.1', () => {
      s.close(() => {
        res(true);
      });
    });
  });
}

/** `n` distinct free loopback ports in 20000–29999. */
export async function randomPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = 20000 + Math.floor(Math.random() * 10000);
    if (!out.includes(p) && (await isFree(p))) out.push(p);
  }
  return out;
}

export interface Estate {
  brokerUrl: string;
  resultBackend: string;
  stop(): Promise<void>;
}

/**
 * moto's server mode (`scripts/sqs-server.sh`), after `python-peers/bootstrap-sqs.sh` (a no-op
 * when the SQS venvs are current). kombu takes the endpoint from the URL's host and port and the
 * credentials from its user and password (docs/sqs.md).
 */
export async function startSqs(): Promise<Estate> {
  await run('bash', [join(ROOT, 'python-peers', 'bootstrap-sqs.sh')], { timeout: 900_000 });
  const [port] = await randomPorts(1);
  const p = String(port);
  await run('bash', [join(SCRIPTS, 'sqs-server.sh'), 'start', p], { timeout: 300_000 });
  return {
    brokerUrl: `sqs://testkey:testsecret@127.0.0.1:${p}`,
    resultBackend: '',
    stop: () => run('bash', [join(SCRIPTS, 'sqs-server.sh'), 'stop', p]).then(() => undefined),
  };
}

/**
 * A master, a replica and three sentinels (`scripts/redis-sentinel.sh`, master name `mymaster`);
 * broker and backend reach the master through the sentinels, as Celery writes it
 * (`sentinel://h:p/db;sentinel://…` + `master_name` in the transport options).
 */
export async function startSentinel(): Promise<Estate> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-conf-sen-'));
  const ports = await randomPorts(5);
  await run(join(SCRIPTS, 'redis-sentinel.sh'), ['start', dir, ...ports.map(String)], {
    timeout: 60_000,
  });
  const url = (db: number): string =>
    ports
      .slice(2)
      .map((p) => `sentinel://127.0.0.1:${String(p)}/${String(db)}`)
      .join(';');
  return {
    brokerUrl: url(0),
    resultBackend: url(1),
    stop: async () => {
      await run(join(SCRIPTS, 'redis-sentinel.sh'), ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TLS-only redis-server with a password and mutual TLS (`scripts/redis-tls.sh`, certificates
 * made for this run); broker and backend URLs carry the `ssl_*` parameters as Celery reads them
 * from a `rediss://` URL (`ssl_cert_reqs`, `ssl_ca_certs`, `ssl_certfile`, `ssl_keyfile`).
 */
export async function startTls(): Promise<Estate> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-conf-tls-'));
  const [port] = await randomPorts(1);
  const p = String(port);
  await run(join(SCRIPTS, 'redis-tls.sh'), ['certs', dir], { timeout: 60_000 });
  await run(
    join(SCRIPTS, 'redis-tls.sh'),
    ['start', p, dir, '--requirepass', 'sekret', '--tls-auth-clients', 'yes'],
    { timeout: 60_000 },
  );
  const url = (db: number): string =>
    `rediss://:sekret@127.0.0.1:${p}/${String(db)}?ssl_cert_reqs=required` +
    `&ssl_ca_certs=${join(dir, 'ca.pem')}&ssl_certfile=${join(dir, 'client.pem')}` +
    `&ssl_keyfile=${join(dir, 'client.key')}`;
  return {
    brokerUrl: url(0),
    resultBackend: url(1),
    stop: async () => {
      await run(join(SCRIPTS, 'redis-tls.sh'), ['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
