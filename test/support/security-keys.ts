import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key pair and self-signed certificate made by openssl, as Celery's docs make them. */
export interface TestIdentity {
  dir: string;
  keyPath: string;
  certPath: string;
  key: string;
  cert: string;
}

/** `openssl req -x509 -newkey rsa:<bits> -nodes …` into a fresh temp dir. */
export function makeIdentity(
  name: string,
  opts: { bits?: number; days?: number } = {},
): TestIdentity {
  const dir = mkdtempSync(join(tmpdir(), `cw-sec-${name}-`));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      `rsa:${String(opts.bits ?? 2048)}`,
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      String(opts.days ?? 2),
      '-subj',
      `/C=US/O=Celery Wire Tests/CN=${name}.example`,
    ],
    { stdio: 'ignore' },
  );
  return {
    dir,
    keyPath,
    certPath,
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
  };
}

/** A certificate store directory (`security_cert_store`) holding these certificates. */
export function makeStore(...ids: TestIdentity[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-sec-store-'));
  mkdirSync(dir, { recursive: true });
  ids.forEach((id, i) => {
    writeFileSync(join(dir, `cert${String(i)}.pem`), id.cert);
  });
  return dir;
}
