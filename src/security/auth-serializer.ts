import { SecurityError } from '../errors/errors';
import { dumps, loads, type DumpsOptions } from '../serialization/registry';
import type { PyValue } from '../serialization/py-values';
import type { CertStore, Certificate, PrivateKey } from './certificate';

/** `celery/security/serialization.py`, `DEFAULT_SEPARATOR`: `b"\x00\x01"`. */
const SEP = Uint8Array.of(0x00, 0x01);

/** The outer content type/encoding of `auth` messages (`register_auth`). */
export const AUTH_CONTENT_TYPE = 'application/data';
export const AUTH_CONTENT_ENCODING = 'utf-8';

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** `base64.b64decode` (non-strict: characters outside the alphabet are discarded). */
function unb64(text: Uint8Array | string): Uint8Array {
  const s = typeof text === 'string' ? text : dec.decode(text);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** `raw.split(sep, maxsplit=4)`. */
function split5(raw: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (out.length < 4) {
    const i = indexOf(raw, SEP, at);
    if (i < 0) break;
    out.push(raw.subarray(at, i));
    at = i + SEP.length;
  }
  out.push(raw.subarray(at));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * `_unpack` of Celery ≤5.4 (v5.2.7): the signer runs to the first separator; the signature is
 * the next `key_size >> 3` bytes (it may hold the separator); the rest is split on every
 * separator and fields 0, 1, 2 are type, encoding and body (a body holding the separator is
 * cut there, and then fails verification, as in Celery).
 */
function unpackLegacy(
  raw: Uint8Array,
  store: CertStore,
  digest: string,
  now: Date | null,
): { body: Uint8Array; contentType: string; contentEncoding: string } {
  const first = indexOf(raw, SEP, 0);
  // Python's `raw[:-1]` when the separator is missing.
  const signer = raw.subarray(0, first < 0 ? Math.max(raw.length - 1, 0) : first);
  const cert = store.get(dec.decode(signer));
  const sigStart = first + SEP.length;
  const sigEnd = sigStart + (cert.keySize() >> 3);
  const signature = raw.subarray(sigStart, sigEnd);
  const rest = raw.subarray(Math.min(sigEnd + SEP.length, raw.length));
  const v: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const i = indexOf(rest, SEP, at);
    if (i < 0) break;
    v.push(rest.subarray(at, i));
    at = i + SEP.length;
  }
  v.push(rest.subarray(at));
  const [ct, ce, body] = v;
  if (ct === undefined || ce === undefined || body === undefined) {
    throw new SecurityError('list index out of range');
  }
  cert.verify(body, signature, digest, now);
  return { body, contentType: dec.decode(ct), contentEncoding: dec.decode(ce) };
}

/** Options of {@link SecureSerializer}, Celery's `setup_security` arguments. */
export interface SecureSerializerOptions {
  /** `security_key`: signs outgoing messages. */
  key?: PrivateKey;
  /** `security_certificate`: its id is the `signer` of outgoing messages. */
  cert?: Certificate;
  /** `security_cert_store`: the certificates incoming messages may be signed with. */
  certStore?: CertStore;
  /** `security_digest` (default `sha256`). */
  digest?: string;
  /** Inner serializer (`serializer`, default `json`). */
  serializer?: string;
  dumpsOptions?: DumpsOptions;
  /** Clock for certificate expiry (default: now). */
  now?: () => Date;
  /**
   * The packing of Celery ≤5.4 (`_pack`/`_unpack` at v5.2.7): signer and signature are raw,
   * not base64, and the signature is cut by the key size; from 5.5.0 both are base64 fields
   * split with `maxsplit=4`. The two are not readable by each other.
   */
  legacyPacking?: boolean;
  /** Check certificate expiry at every verify (Celery ≥5.3, `Certificate.verify`); default true. */
  expiryOnVerify?: boolean;
}

/**
 * Celery's `SecureSerializer` (the `auth` serializer): the body is serialized with the inner
 * serializer, the *serialized bytes* are signed (RSA-PSS), and the message body becomes
 * `b64(b64(signer) ␀␁ b64(signature) ␀␁ content_type ␀␁ content_encoding ␀␁ body)`.
 */
export class SecureSerializer {
  private readonly digest: string;
  private readonly serializer: string;

  constructor(private readonly o: SecureSerializerOptions) {
    this.digest = o.digest ?? 'sha256';
    this.serializer = o.serializer ?? 'json';
  }

  /** `serialize(data)`: the ASCII (base64) body of an `auth` message. */
  serialize(data: PyValue, opts?: DumpsOptions): Uint8Array {
    let inner;
    try {
      inner = dumps(data, this.serializer, opts ?? this.o.dumpsOptions);
    } catch (e) {
      throw new SecurityError(`Unable to serialize: ${String(e)}`, { cause: e });
    }
    return this.packSigned(inner.body, inner.contentType, inner.contentEncoding);
  }

  /** `_pack` of an already serialized body, signed with the key (`PrivateKey.sign`). */
  packSigned(body: Uint8Array, contentType: string, contentEncoding: string): Uint8Array {
    const { key, cert } = this.o;
    if (!key || !cert) throw new SecurityError('Unable to serialize: no security_key/certificate');
    const signature = key.sign(body, this.digest);
    const ct = enc.encode(contentType);
    const ce = enc.encode(contentEncoding);
    if (this.o.legacyPacking === true) {
      return enc.encode(
        b64(concat([enc.encode(cert.id()), SEP, signature, SEP, ct, SEP, ce, SEP, body])),
      );
    }
    const fields = concat([
      enc.encode(b64(enc.encode(cert.id()))),
      SEP,
      enc.encode(b64(signature)),
      SEP,
      ct,
      SEP,
      ce,
      SEP,
      body,
    ]);
    return enc.encode(b64(fields));
  }

  /**
   * `_unpack` + `Certificate.verify`: the inner body and its content type, once the signature
   * checked out against the signer's certificate in the store. Nothing is decoded before that.
   */
  unpackVerified(payload: Uint8Array | string): {
    body: Uint8Array;
    contentType: string;
    contentEncoding: string;
  } {
    const store = this.o.certStore;
    if (!store) throw new SecurityError('Unable to deserialize: no security_cert_store');
    const now = this.o.expiryOnVerify === false ? null : (this.o.now ?? (() => new Date()))();
    try {
      const raw = unb64(payload);
      if (this.o.legacyPacking === true) return unpackLegacy(raw, store, this.digest, now);
      const v = split5(raw);
      if (v.length < 5) throw new SecurityError('not enough values to unpack');
      const [signer, signature, ct, ce, b] = v as [
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
      ];
      store.get(dec.decode(unb64(signer))).verify(b, unb64(signature), this.digest, now);
      return { body: b, contentType: dec.decode(ct), contentEncoding: dec.decode(ce) };
    } catch (e) {
      throw new SecurityError(
        `Unable to deserialize: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  /**
   * `deserialize(data)`: verify, then decode the inner body (`loads(..., force=True)`: the inner
   * type needs no `accept_content` entry). Every failure is a {@link SecurityError}.
   */
  deserialize(payload: Uint8Array | string): PyValue {
    const inner = this.unpackVerified(payload);
    return loads(inner.body, inner.contentType, inner.contentEncoding, {
      accept: [inner.contentType],
    });
  }
}
