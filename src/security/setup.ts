import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SecurityError } from '../errors/errors';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import { registerSerializer } from '../serialization/registry';
import {
  AUTH_CONTENT_ENCODING,
  AUTH_CONTENT_TYPE,
  SecureSerializer,
  type SecureSerializerOptions,
} from './auth-serializer';
import { CertStore, Certificate, PrivateKey } from './certificate';

/** Celery's security settings in camelCase (`celery/app/defaults.py`, `security_*`). */
export interface SecuritySettings {
  /** `security_key`: path of the PEM private key. */
  securityKey: string;
  /** `security_key_password`. */
  securityKeyPassword?: string | null;
  /** `security_certificate`: path of the PEM certificate. */
  securityCertificate: string;
  /** `security_cert_store`: a directory (every file in it) or a glob of PEM certificates. */
  securityCertStore: string;
  /** `security_digest` (default `sha256`). */
  securityDigest?: string;
}

/** `fnmatch`-style `*`/`?` of the last path part (what `glob.glob` does for simple patterns). */
function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.') && re.test(n))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .sort();
}

/**
 * `FSCertStore(path)`: a directory means `path/*`; every matching file is a certificate; an
 * expired one is refused at load (`Expired certificate: …`).
 */
export function loadCertStore(path: string, now: Date = new Date()): CertStore {
  const isDir = (() => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  })();
  const store = new CertStore();
  for (const file of globFiles(isDir ? join(path, '*') : path)) {
    const cert = new Certificate(readFileSync(file, 'utf8'));
    if (cert.hasExpired(now)) throw new SecurityError(`Expired certificate: '${cert.id()}'`);
    store.add(cert);
  }
  return store;
}

/**
 * `app.setup_security()` (`celery/security/__init__.py`, `setup_security` + `register_auth`):
 * read the key, certificate and store named by the settings and build the `auth` serializer.
 */
export function setupSecurity(
  s: SecuritySettings,
  now: () => Date = () => new Date(),
  extra: Pick<SecureSerializerOptions, 'legacyPacking' | 'expiryOnVerify' | 'serializer'> = {},
): SecureSerializer {
  const read = (what: string, p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw new SecurityError(`Cannot read ${what} ${p}: ${String(e)}`, { cause: e });
    }
  };
  return new SecureSerializer({
    key: new PrivateKey(read('security_key', s.securityKey), s.securityKeyPassword ?? undefined),
    cert: new Certificate(read('security_certificate', s.securityCertificate)),
    certStore: loadCertStore(s.securityCertStore, now()),
    digest: s.securityDigest ?? 'sha256',
    now,
    ...extra,
  });
}

/** Options of {@link registerAuth}. */
export interface RegisterAuthOptions {
  /** The Celery line whose packing and checks to follow (default 5.7). */
  profile?: CeleryProfileName;
  /** The inner serializer (`setup_security(serializer=…)`, default `json`). */
  serializer?: string;
  now?: () => Date;
}

/**
 * `register_auth` + `registry._set_default_serializer('auth')`'s effect on this process: the
 * `auth` name (content type `application/data`) is registered in the serializer registry, so
 * every producer using `auth` signs and every consumer accepting it verifies, before any decode.
 * Process-wide, as kombu's registry is.
 */
export function registerAuth(s: SecuritySettings, o: RegisterAuthOptions = {}): SecureSerializer {
  const p = getProfile(o.profile);
  const auth = setupSecurity(s, o.now, {
    legacyPacking: !p.authB64Fields,
    expiryOnVerify: p.authExpiryOnVerify,
    ...(o.serializer === undefined ? {} : { serializer: o.serializer }),
  });
  const dialect = { jsonDialect: p.jsonDialect };
  registerSerializer('auth', {
    contentType: AUTH_CONTENT_TYPE,
    contentEncoding: AUTH_CONTENT_ENCODING,
    encode: (value, opts) => auth.serialize(value, opts ?? dialect),
    decode: (body) => auth.deserialize(body),
  });
  return auth;
}

/**
 * An encoded message under `task_serializer='auth'`: the already serialized body is what Celery
 * signs (`dumps(data, serializer=inner)`), so signing wraps the body bytes as they are and sets
 * the outer content type `application/data`, encoding `utf-8`.
 */
export function signMessage(raw: RawMessage, auth: SecureSerializer): RawMessage {
  return {
    ...raw,
    body: auth.packSigned(raw.body, raw.contentType, raw.contentEncoding),
    contentType: AUTH_CONTENT_TYPE,
    contentEncoding: AUTH_CONTENT_ENCODING,
  };
}

/** The inverse of {@link signMessage}: verified, with the inner body and content type back. */
export function verifyMessage(raw: RawMessage, auth: SecureSerializer): RawMessage {
  if (raw.contentType !== AUTH_CONTENT_TYPE) {
    throw new SecurityError(`Refusing unsigned message of type ${raw.contentType}`);
  }
  const inner = auth.unpackVerified(raw.body);
  return {
    ...raw,
    body: inner.body,
    contentType: inner.contentType,
    contentEncoding: inner.contentEncoding,
  };
}
