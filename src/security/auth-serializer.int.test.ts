/**
 * The `auth` serializer both ways against Python Celery 5.7 (`celery.security`, via kombu's
 * registry after `register_auth`), keys and certificates made by openssl here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeIdentity, makeStore, type TestIdentity } from '../../test/support/security-keys';
import { AUTH_CONTENT_ENCODING, AUTH_CONTENT_TYPE, SecureSerializer } from './auth-serializer';
import { CertStore, Certificate, PrivateKey } from './certificate';
import { encodeTaskMessage } from '../protocol/task-message';
import { signMessage } from './setup';

const ROOT = join(__dirname, '..', '..');
const PEER = join(ROOT, 'python-peers', 'peer', 'auth_peer.py');
let py: string;
let alice: TestIdentity;
let mallory: TestIdentity;
let store: string;

const VALUE = [[2, 3], { word: 'naïve', n: 1.5 }, { callbacks: null, chain: null }];

beforeAll(() => {
  py = execFileSync('bash', [join(ROOT, 'python-peers', 'bootstrap-security.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  alice = makeIdentity('alice');
  mallory = makeIdentity('mallory');
  store = makeStore(alice);
}, 300_000);

function pyDumps(
  id: TestIdentity,
  digest = 'sha256',
): {
  content_type: string;
  content_encoding: string;
  body: string;
} {
  const out = execFileSync(py, [PEER, 'dumps', id.keyPath, id.certPath, digest], {
    input: JSON.stringify(VALUE),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { content_type: string; content_encoding: string; body: string };
}

function pyLoads(body: Uint8Array, digest = 'sha256'): { rc: number; out: string } {
  const r = spawnSync(py, [PEER, 'loads', store, digest], { input: body, encoding: 'utf8' });
  return { rc: r.status ?? -1, out: r.stdout };
}

const signer = (id: TestIdentity, digest = 'sha256') =>
  new SecureSerializer({ key: new PrivateKey(id.key), cert: new Certificate(id.cert), digest });
const verifier = (digest = 'sha256') =>
  new SecureSerializer({ certStore: new CertStore([new Certificate(alice.cert)]), digest });

describe('auth serializer interop with Celery 5.7', () => {
  it('Node signs, Python verifies and decodes', () => {
    const r = pyLoads(signer(alice).serialize(VALUE));
    expect(r.rc).toBe(0);
    expect(JSON.parse(r.out)).toEqual(VALUE);
  });

  it('Python signs, Node verifies and decodes; same content type and encoding', () => {
    const p = pyDumps(alice);
    expect([p.content_type, p.content_encoding]).toEqual([
      AUTH_CONTENT_TYPE,
      AUTH_CONTENT_ENCODING,
    ]);
    expect(verifier().deserialize(p.body)).toEqual(VALUE);
  });

  it('a task message signed by signMessage decodes in Python to the task body tuple', () => {
    const raw = encodeTaskMessage(
      { task: 't.add', id: 'id-int', args: [2, 3], kwargs: { z: 'é' } },
      { now: new Date('2026-01-02T03:04:05Z'), origin: 'gen1@h', replyTo: 'r' },
    );
    const r = pyLoads(signMessage(raw, signer(alice)).body);
    expect(r.rc).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      [2, 3],
      { z: 'é' },
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ]);
  });

  it('sha512 both ways', () => {
    expect(JSON.parse(pyLoads(signer(alice, 'sha512').serialize(VALUE), 'sha512').out)).toEqual(
      VALUE,
    );
    expect(verifier('sha512').deserialize(pyDumps(alice, 'sha512').body)).toEqual(VALUE);
  });

  it('the signer ids agree (Certificate.get_id)', () => {
    // Python found the certificate by the id Node wrote; and Node finds Python's.
    const raw = Buffer.from(pyDumps(alice).body, 'base64').toString('latin1');
    const signerId = Buffer.from(raw.split('\x00\x01')[0] ?? '', 'base64').toString();
    expect(signerId).toBe(new Certificate(alice.cert).id());
  });

  it('tampered messages are refused on both sides', () => {
    const flip = (b64: string): string => {
      const raw = Buffer.from(b64, 'base64');
      const i = raw.length - 4;
      raw[i] = (raw[i] ?? 0) ^ 0x01;
      return raw.toString('base64');
    };
    const fromNode = new TextDecoder().decode(signer(alice).serialize(VALUE));
    const r = pyLoads(new TextEncoder().encode(flip(fromNode)));
    expect(r.rc).toBe(2);
    // Refused, though not in the words Celery means: `celery/security/utils.py`,
    // `reraise_errors` defaults to `errors=(cryptography.exceptions,)` (a module), so Python's
    // `except` itself raises `TypeError('catching classes that do not inherit from
    // BaseException is not allowed')`, which kombu reports as the DecodeError.
    expect(r.out).toMatch(/^(Security|Decode)Error: Unable to deserialize: /);
    expect(() => verifier().deserialize(flip(pyDumps(alice).body))).toThrow(/Bad signature/);
  });

  it('a signer outside the store is refused on both sides', () => {
    const r = pyLoads(signer(mallory).serialize(VALUE));
    expect(r.rc).toBe(2);
    expect(r.out).toMatch(/Unknown certificate/);
    expect(() => verifier().deserialize(pyDumps(mallory).body)).toThrow(/Unknown certificate/);
  });

  it('an unsigned body is refused by Python', () => {
    const r = pyLoads(new TextEncoder().encode(JSON.stringify(VALUE)));
    expect(r.rc).toBe(2);
    expect(r.out).toMatch(/Unable to deserialize/);
  });
});
