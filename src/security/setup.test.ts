import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeIdentity, makeStore } from '../../test/support/security-keys';
import { encodeTaskMessage } from '../protocol/task-message';
import { decodeTaskMessage } from '../protocol/task-decode';
import { loadCertStore, setupSecurity, signMessage, verifyMessage } from './setup';
import { Certificate } from './certificate';

const alice = makeIdentity('alice-setup');
const bob = makeIdentity('bob-setup');
const ENV = { now: new Date('2026-01-02T03:04:05Z'), origin: 'gen1@h', replyTo: 'r-1' };

describe('setup_security from files', () => {
  it('cert store: a directory means every file in it; a glob selects files', () => {
    const dir = makeStore(alice, bob);
    expect(
      loadCertStore(dir)
        .all()
        .map((c) => c.id())
        .sort(),
    ).toEqual([new Certificate(alice.cert).id(), new Certificate(bob.cert).id()].sort());
    const mixed = mkdtempSync(join(tmpdir(), 'cw-sec-glob-'));
    copyFileSync(alice.certPath, join(mixed, 'alice.pem'));
    writeFileSync(join(mixed, 'notes.txt'), 'not a certificate');
    expect(loadCertStore(join(mixed, '*.pem')).all()).toHaveLength(1);
    expect(() => loadCertStore(mixed)).toThrow(/Invalid certificate/);
  });

  it('an expired certificate in the store is refused at load', () => {
    const later = new Date(Date.now() + 30 * 86_400_000);
    expect(() => loadCertStore(makeStore(alice), later)).toThrow(/Expired certificate/);
  });

  it('signs a task message as task_serializer=auth and verifies it back', () => {
    const auth = setupSecurity({
      securityKey: alice.keyPath,
      securityCertificate: alice.certPath,
      securityCertStore: makeStore(alice),
    });
    const raw = encodeTaskMessage({ task: 't.add', id: 'id-1', args: [2, 3] }, ENV);
    const signed = signMessage(raw, auth);
    expect([signed.contentType, signed.contentEncoding]).toEqual(['application/data', 'utf-8']);
    expect(signed.headers).toEqual(raw.headers);
    const back = verifyMessage(signed, auth);
    expect(back.body).toEqual(raw.body);
    expect(back.contentType).toBe('application/json');
    expect(decodeTaskMessage(back).args).toEqual([2, 3]);
  });

  it('refuses unsigned messages and messages from a signer outside the store', () => {
    const mine = setupSecurity({
      securityKey: alice.keyPath,
      securityCertificate: alice.certPath,
      securityCertStore: makeStore(alice),
    });
    const theirs = setupSecurity({
      securityKey: bob.keyPath,
      securityCertificate: bob.certPath,
      securityCertStore: makeStore(bob),
    });
    const raw = encodeTaskMessage({ task: 't.add', id: 'id-2' }, ENV);
    expect(() => verifyMessage(raw, mine)).toThrow(/Refusing unsigned message/);
    expect(() => verifyMessage(signMessage(raw, theirs), mine)).toThrow(/Unknown certificate/);
  });

  it('a missing key file is a SecurityError naming the setting', () => {
    expect(() =>
      setupSecurity({
        securityKey: '/nonexistent/key.pem',
        securityCertificate: alice.certPath,
        securityCertStore: makeStore(alice),
      }),
    ).toThrow(/Cannot read security_key/);
  });
});
