import { makeIdentity, makeStore } from '../../test/support/security-keys';
import { ContentDisallowedError, DecodeError, SerializerNotInstalledError } from '../errors/errors';
import { dumps, loads, unregisterSerializer } from '../serialization/registry';
import { SecureSerializer } from './auth-serializer';
import { CertStore, Certificate, PrivateKey } from './certificate';
import { registerAuth } from './setup';

const alice = makeIdentity('alice');
const store = makeStore(alice);
const settings = {
  securityKey: alice.keyPath,
  securityCertificate: alice.certPath,
  securityCertStore: store,
};
const VALUE = [[1, 2], {}, { callbacks: null }];

const codec = (legacyPacking: boolean) =>
  new SecureSerializer({
    key: new PrivateKey(alice.key),
    cert: new Certificate(alice.cert),
    certStore: new CertStore([new Certificate(alice.cert)]),
    legacyPacking,
  });

afterEach(() => {
  unregisterSerializer('auth');
});

describe('the two auth packings (celery/security/serialization.py, 5.2.7 vs 5.7.0)', () => {
  it('≤5.4: raw signer, raw signature of key_size/8 bytes, then type, encoding, body', () => {
    const raw = Buffer.from(new TextDecoder().decode(codec(true).serialize(VALUE)), 'base64');
    const id = new Certificate(alice.cert).id();
    expect(raw.subarray(0, id.length).toString()).toBe(id);
    expect([...raw.subarray(id.length, id.length + 2)]).toEqual([0, 1]);
    const rest = raw
      .subarray(id.length + 2 + 256 + 2)
      .toString('latin1')
      .split('\x00\x01');
    expect(rest).toEqual(['application/json', 'utf-8', '[[1, 2], {}, {"callbacks": null}]']);
    expect(codec(true).deserialize(codec(true).serialize(VALUE))).toEqual(VALUE);
  });

  it('neither line reads the other line’s packing', () => {
    expect(() => codec(false).deserialize(codec(true).serialize(VALUE))).toThrow(
      /Unable to deserialize/,
    );
    expect(() => codec(true).deserialize(codec(false).serialize(VALUE))).toThrow(
      /Unable to deserialize/,
    );
  });
});

describe('registerAuth: the auth name in the serializer registry', () => {
  it('is unknown until registered, as kombu has it', () => {
    expect(() => dumps(VALUE, 'auth')).toThrow(SerializerNotInstalledError);
    expect(() =>
      loads(new Uint8Array([1]), 'application/json', 'utf-8', { accept: ['auth'] }),
    ).toThrow(SerializerNotInstalledError);
  });

  it('dumps signs, loads verifies; json is refused under accept ["auth"]', () => {
    registerAuth(settings);
    const e = dumps(VALUE, 'auth');
    expect(e.contentType).toBe('application/data');
    expect(e.contentEncoding).toBe('utf-8');
    expect(loads(e.body, e.contentType, e.contentEncoding, { accept: ['auth'] })).toEqual(VALUE);
    const json = dumps(VALUE, 'json');
    expect(() =>
      loads(json.body, json.contentType, json.contentEncoding, { accept: ['auth'] }),
    ).toThrow(ContentDisallowedError);
  });

  it('a bad signature is a DecodeError (kombu `_reraise_errors(DecodeError)`)', () => {
    registerAuth(settings);
    const raw = Buffer.from(new TextDecoder().decode(dumps(VALUE, 'auth').body), 'base64');
    const i = raw.length - 3;
    raw[i] = (raw[i] ?? 0) ^ 1;
    const body = new TextEncoder().encode(raw.toString('base64'));
    expect(() => loads(body, 'application/data', 'utf-8', { accept: ['auth'] })).toThrow(
      DecodeError,
    );
    expect(() => loads(body, 'application/data', 'utf-8', { accept: ['auth'] })).toThrow(
      /Unable to deserialize: Bad signature/,
    );
  });

  it('follows the line: a 5.2 registration packs the ≤5.4 way', () => {
    registerAuth(settings, { profile: 'celery-5.2' });
    const body = dumps([1, 'é'], 'auth').body;
    expect(codec(true).deserialize(body)).toEqual([1, 'é']);
    expect(() => codec(false).deserialize(body)).toThrow(/Unable to deserialize/);
  });
});
