import { makeIdentity, makeStore } from '../../test/support/security-keys';
import { ImproperlyConfiguredError } from '../errors/errors';
import { dumps, unregisterSerializer } from '../serialization/registry';
import { createApp } from './app';
import { SECURITY_SETTING_MISSING, SETTING_MISSING } from './security';

const alice = makeIdentity('alice');
const store = makeStore(alice);
const keys = {
  securityKey: alice.keyPath,
  securityCertificate: alice.certPath,
  securityCertStore: store,
};

afterEach(() => {
  unregisterSerializer('auth');
});

describe('app.setupSecurity() (celery/security/__init__.py, setup_security)', () => {
  it('needs taskSerializer auth and acceptContent exactly ["auth"]', () => {
    const app = createApp({ env: {}, ...keys });
    expect(() => {
      app.setupSecurity();
    }).toThrow(ImproperlyConfiguredError);
    const mixed = createApp({ env: {}, taskSerializer: 'json', acceptContent: ['auth', 'json'] });
    expect(() => {
      mixed.setupSecurity();
    }).toThrow(SETTING_MISSING);
  });

  it('needs the key, certificate and store', () => {
    const app = createApp({ env: {}, taskSerializer: 'json', acceptContent: ['auth'] });
    const auth = { ...app.config, taskSerializer: 'auth' };
    Object.assign(app.config, auth);
    expect(() => {
      app.setupSecurity();
    }).toThrow(SECURITY_SETTING_MISSING);
  });

  it('a config with taskSerializer auth and a key sets it up when the app is built', () => {
    expect(() => dumps([], 'auth')).toThrow();
    createApp({ env: {}, taskSerializer: 'auth', acceptContent: ['auth'], ...keys });
    expect(dumps([], 'auth').contentType).toBe('application/data');
  });

  it('setupSecurity(overrides) takes paths as arguments, as setup_security(key=…) does', () => {
    const app = createApp({ env: {}, taskSerializer: 'auth', acceptContent: ['auth'] });
    app.setupSecurity({ key: keys.securityKey, cert: keys.securityCertificate, store });
    expect(dumps([], 'auth').contentType).toBe('application/data');
  });
});
