import { makeIdentity } from '../../test/support/security-keys';
import { SecurityError } from '../errors/errors';
import { AUTH_CONTENT_TYPE, SecureSerializer } from './auth-serializer';
import { CertStore, Certificate, PrivateKey, digestName } from './certificate';

const alice = makeIdentity('alice');
const mallory = makeIdentity('mallory');
const VALUE = [[1, 2], { a: 'é' }, { callbacks: null }];

function signer(id = alice, digest = 'sha256'): SecureSerializer {
  return new SecureSerializer({
    key: new PrivateKey(id.key),
    cert: new Certificate(id.cert),
    digest,
  });
}

function verifier(digest = 'sha256', now?: () => Date): SecureSerializer {
  return new SecureSerializer({
    certStore: new CertStore([new Certificate(alice.cert)]),
    digest,
    ...(now ? { now } : {}),
  });
}

/** Decode the outer base64 and flip one byte of the signed body. */
function tamper(payload: Uint8Array): Uint8Array {
  const raw = Buffer.from(new TextDecoder().decode(payload), 'base64');
  const last = raw.length - 3;
  raw[last] = (raw[last] ?? 0) ^ 0x01;
  return new TextEncoder().encode(raw.toString('base64'));
}

describe('auth serializer (celery/security/serialization.py)', () => {
  it('round-trips and the outer body is ASCII base64', () => {
    const body = signer().serialize(VALUE);
    expect(new TextDecoder().decode(body)).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(verifier().deserialize(body)).toEqual(VALUE);
    expect(AUTH_CONTENT_TYPE).toBe('application/data');
  });

  it('packs signer, signature, content type, encoding and body with \\x00\\x01', () => {
    const raw = Buffer.from(new TextDecoder().decode(signer().serialize(VALUE)), 'base64');
    const parts = raw.toString('latin1').split('\x00\x01');
    expect(parts).toHaveLength(5);
    expect(Buffer.from(parts[0] ?? '', 'base64').toString()).toBe(new Certificate(alice.cert).id());
    expect(parts.slice(2, 4)).toEqual(['application/json', 'utf-8']);
    expect(Buffer.from(parts[4] ?? '', 'latin1').toString('utf8')).toBe(
      '[[1, 2], {"a": "\\u00e9"}, {"callbacks": null}]',
    );
  });

  it('the certificate id is "<issuer values> <decimal serial>" (Certificate.get_id)', () => {
    const id = new Certificate(alice.cert).id();
    expect(id).toMatch(/^US Celery Wire Tests alice\.example \d+$/);
  });

  it('a tampered body is refused', () => {
    expect(() => verifier().deserialize(tamper(signer().serialize(VALUE)))).toThrow(
      /Unable to deserialize: Bad signature/,
    );
  });

  it('a signer not in the store is refused', () => {
    expect(() => verifier().deserialize(signer(mallory).serialize(VALUE))).toThrow(
      /Unable to deserialize: Unknown certificate: 'US Celery Wire Tests mallory\.example \d+'/,
    );
  });

  it('an unsigned (plain JSON) body is refused', () => {
    expect(() => verifier().deserialize(new TextEncoder().encode('[[], {}, {}]'))).toThrow(
      SecurityError,
    );
  });

  it('an expired certificate is refused', () => {
    const later = () => new Date(Date.now() + 30 * 86_400_000);
    expect(() => verifier('sha256', later).deserialize(signer().serialize(VALUE))).toThrow(
      /Expired certificate/,
    );
  });

  it('the digest must match (sha512 signed, sha256 expected)', () => {
    const body = signer(alice, 'sha512').serialize(VALUE);
    expect(verifier('sha512').deserialize(body)).toEqual(VALUE);
    expect(() => verifier('sha256').deserialize(body)).toThrow(/Bad signature/);
  });

  it('maps cryptography hash names to OpenSSL names', () => {
    expect(digestName('SHA256')).toBe('sha256');
    expect(digestName('sha3_256')).toBe('sha3-256');
    expect(digestName('sha512_256')).toBe('sha512-256');
  });

  it('refuses non-RSA keys and garbage certificates', () => {
    expect(() => new Certificate('not a cert')).toThrow(/Invalid certificate/);
    expect(() => new PrivateKey('not a key')).toThrow(/Invalid private key/);
  });
});
