import {
  X509Certificate,
  constants,
  createPrivateKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { SecurityError } from '../errors/errors';

/**
 * `celery/security/utils.py`, `get_digest_algorithm`: `getattr(hashes, digest.upper())` — a
 * cryptography hash name (`sha256`, `sha512`, `sha3_256`, …) as OpenSSL names it.
 */
export function digestName(digest: string): string {
  const d = digest.toLowerCase();
  if (/^sha3_(224|256|384|512)$/.test(d)) return d.replace('_', '-');
  if (/^sha512_(224|256)$/.test(d)) return d.replace('_', '-');
  return d;
}

const HASH_LEN: Readonly<Record<string, number>> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha512-224': 28,
  'sha512-256': 32,
  'sha3-224': 28,
  'sha3-256': 32,
  'sha3-384': 48,
  'sha3-512': 64,
  md5: 16,
};

/**
 * `padding.PSS(mgf=MGF1(digest), salt_length=PSS.MAX_LENGTH)` as cryptography resolves it for
 * both signing and verifying: the largest salt the key allows, `emLen - hLen - 2`
 * (`calculate_max_pss_salt_length`). Verification is strict about it, as Celery's is.
 */
function pssSaltLength(key: KeyObject, digest: string): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  const hLen = HASH_LEN[digest];
  if (bits === undefined || hLen === undefined) {
    throw new SecurityError(`Unsupported digest or key: ${digest}`);
  }
  return Math.ceil((bits - 1) / 8) - hLen - 2;
}

/** `celery/security/key.py`, `PrivateKey`: an RSA key (PEM, optionally encrypted). */
export class PrivateKey {
  private readonly key: KeyObject;

  constructor(pem: string | Uint8Array, password?: string) {
    try {
      this.key = createPrivateKey({
        key: typeof pem === 'string' ? pem : Buffer.from(pem),
        format: 'pem',
        ...(password === undefined ? {} : { passphrase: password }),
      });
    } catch (e) {
      throw new SecurityError(`Invalid private key: ${String(e)}`, { cause: e });
    }
    if (this.key.asymmetricKeyType !== 'rsa') {
      throw new SecurityError('Invalid private key: Non-RSA keys are not supported.');
    }
  }

  /** `PrivateKey.sign`: RSA-PSS, MGF1 with the same digest, maximum salt. */
  sign(data: Uint8Array, digest: string): Uint8Array {
    const alg = digestName(digest);
    try {
      return cryptoSign(alg, data, {
        key: this.key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: pssSaltLength(this.key, alg),
      });
    } catch (e) {
      throw new SecurityError(`Unable to sign data: ${String(e)}`, { cause: e });
    }
  }
}

/** `celery/security/certificate.py`, `Certificate`: an RSA X.509 certificate (PEM). */
export class Certificate {
  private readonly cert: X509Certificate;

  constructor(pem: string | Uint8Array) {
    try {
      this.cert = new X509Certificate(typeof pem === 'string' ? pem : Buffer.from(pem));
    } catch (e) {
      throw new SecurityError(`Invalid certificate: ${String(e)}`, { cause: e });
    }
    if (this.cert.publicKey.asymmetricKeyType !== 'rsa') {
      throw new SecurityError('Invalid certificate: Non-RSA certificates are not supported.');
    }
  }

  /** `has_expired`: now ≥ notAfter. */
  hasExpired(now: Date): boolean {
    return now.getTime() >= new Date(this.cert.validTo).getTime();
  }

  /** `get_issuer`: the issuer's attribute values, in order, joined by spaces. */
  issuer(): string {
    return this.cert.issuer
      .split('\n')
      .map((rdn) => rdn.slice(rdn.indexOf('=') + 1))
      .join(' ');
  }

  /** `get_serial_number` in decimal. */
  serialNumber(): string {
    return BigInt(`0x${this.cert.serialNumber}`).toString();
  }

  /** `get_id`: `"<issuer> <serial>"`, the signer field of signed messages. */
  id(): string {
    return `${this.issuer()} ${this.serialNumber()}`;
  }

  /** `get_pubkey().key_size`: the RSA modulus length in bits. */
  keySize(): number {
    return this.cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  }

  /**
   * `Certificate.verify`: expired → SecurityError (Celery ≥5.3 checks at every verify; `now`
   * null skips it, as ≤5.2 only check when the store is loaded); bad signature → `Bad signature`.
   */
  verify(data: Uint8Array, signature: Uint8Array, digest: string, now: Date | null): void {
    if (now !== null && this.hasExpired(now))
      throw new SecurityError(`Expired certificate: '${this.id()}'`);
    const alg = digestName(digest);
    const key = this.cert.publicKey;
    let ok: boolean;
    try {
      ok = cryptoVerify(
        alg,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSaltLength(key, alg) },
        signature,
      );
    } catch (e) {
      throw new SecurityError(`Bad signature: ${String(e)}`, { cause: e });
    }
    if (!ok) throw new SecurityError('Bad signature: InvalidSignature()');
  }
}

/** `CertStore`: certificates by id; duplicates refused. */
export class CertStore {
  private readonly certs = new Map<string, Certificate>();

  constructor(certs: Iterable<Certificate> = []) {
    for (const c of certs) this.add(c);
  }

  add(cert: Certificate): void {
    const id = cert.id();
    if (this.certs.has(id)) throw new SecurityError(`Duplicate certificate: '${id}'`);
    this.certs.set(id, cert);
  }

  /** `CertStore.__getitem__`: `Unknown certificate: …` when absent. */
  get(id: string): Certificate {
    const c = this.certs.get(id);
    if (!c) throw new SecurityError(`Unknown certificate: '${id}'`);
    return c;
  }

  /** Every certificate (`itercerts`). */
  all(): Certificate[] {
    return [...this.certs.values()];
  }
}
