import type { CeleryConfig } from '../config/config';
import { ImproperlyConfiguredError } from '../errors/errors';
import type { SecureSerializer } from '../security/auth-serializer';
import { registerAuth } from '../security/setup';
import { profileOf } from './factories';

/** `celery/security/__init__.py`, `SETTING_MISSING`. */
export const SETTING_MISSING = `You have to configure a special task serializer
for signing and verifying tasks:
    * task_serializer = 'auth'

You have to accept only tasks which are serialized with 'auth'.
There is no point in signing messages if they are not verified.
    * accept_content = ['auth']
`;

/** `celery/security/__init__.py`, `SECURITY_SETTING_MISSING`. */
export const SECURITY_SETTING_MISSING = `Sorry, but you have to configure the
    * security_key
    * security_certificate, and the
    * security_cert_store
configuration settings to use the auth serializer.

Please see the configuration reference for more information.
`;

/** Arguments of `app.setup_security(...)`; each overrides the setting of the same name. */
export interface SetupSecurityOptions {
  key?: string;
  keyPassword?: string | null;
  cert?: string;
  store?: string;
  digest?: string;
  /** The inner serializer (default `json`). */
  serializer?: string;
  now?: () => Date;
}

/**
 * `app.setup_security()` (`celery/security/__init__.py`, `setup_security`): the same checks in
 * the same order and words, then `register_auth` for the app's Celery line.
 */
export function setupAppSecurity(
  config: CeleryConfig,
  o: SetupSecurityOptions = {},
): SecureSerializer {
  const accept = config.acceptContent;
  if (config.taskSerializer !== 'auth' || accept.length !== 1 || accept[0] !== 'auth') {
    throw new ImproperlyConfiguredError(SETTING_MISSING);
  }
  const key = o.key ?? config.securityKey;
  const cert = o.cert ?? config.securityCertificate;
  const store = o.store ?? config.securityCertStore;
  if (!key || !cert || !store) throw new ImproperlyConfiguredError(SECURITY_SETTING_MISSING);
  const password = o.keyPassword ?? config.securityKeyPassword;
  const digest = o.digest ?? config.securityDigest;
  return registerAuth(
    {
      securityKey: key,
      securityCertificate: cert,
      securityCertStore: store,
      ...(password === undefined ? {} : { securityKeyPassword: password }),
      ...(digest === undefined ? {} : { securityDigest: digest }),
    },
    {
      profile: profileOf(config.celeryLine),
      ...(o.serializer === undefined ? {} : { serializer: o.serializer }),
      ...(o.now === undefined ? {} : { now: o.now }),
    },
  );
}

/** A config that names `taskSerializer: 'auth'` and a key sets security up when the app is built. */
export function wantsSecurity(config: CeleryConfig): boolean {
  return config.taskSerializer === 'auth' && config.securityKey !== undefined;
}
