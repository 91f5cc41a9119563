import { PROFILES, type CeleryProfile } from './profiles';
import { pyJsonLoads } from '../serialization/python-json';
import { isPyDict, PyFloat, type PyValue } from '../serialization/py-values';
import { CELERY_CONF_DEFAULTS_JSON } from './celery-conf-defaults';
import { maskBrokerUrl, sanitizeUrl } from './control-broker-info';
import { controlQuirks } from './control-quirks';

/** `celery/app/utils.py`, `HIDDEN_SETTINGS`. */
const HIDDEN = /API|TOKEN|KEY|SECRET|PASS|PROFANITIES_LIST|SIGNATURE|DATABASE|BEAT_DBURI/i;
const MASK = '********';

const parsed = new Map<string, Record<string, PyValue>>();

/**
 * Celery's defaults table of a line (`app.conf.table(with_defaults=True)` of a bare app,
 * censored), generated from real Celery; lines without their own table use the nearest older
 * one that has (5.2 for 4.4–5.6, 5.7 for 5.7).
 */
export function celeryConfDefaults(line: string): Record<string, PyValue> {
  const profiles: Partial<Record<string, CeleryProfile>> = PROFILES;
  const key = profiles[`celery-${line}`]?.confDefaultsTable ?? '5.2';
  let t = parsed.get(key);
  if (!t) {
    const v = pyJsonLoads(CELERY_CONF_DEFAULTS_JSON[key] ?? '{}');
    t = isPyDict(v) ? v : {};
    parsed.set(key, t);
  }
  return t;
}

/**
 * `filter_hidden_settings` (`celery/app/utils.py`): secrets masked, `broker_url` as kombu's
 * `as_uri(mask=…)`, `*backend*` URLs sanitized, mappings recursed.
 */
export function censorSetting(key: string, value: PyValue, alwaysMaskBroker: boolean): PyValue {
  if (isPyDict(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, censorSetting(k, v, alwaysMaskBroker)]),
    );
  }
  if (HIDDEN.test(key)) return MASK;
  const lower = key.toLowerCase();
  if (['broker_url', 'broker_read_url', 'broker_write_url'].includes(lower)) {
    return typeof value === 'string' ? maskBrokerUrl(value, alwaysMaskBroker) : value;
  }
  if (lower.includes('backend') && typeof value === 'string') return sanitizeUrl(value);
  return value;
}

/**
 * The `conf` reply (`celery/worker/control.py`, `conf`): the settings the app changed, or with
 * `with_defaults` Celery's whole table with those changes applied. A changed value keeps the
 * default's Python type (an integral number where Celery's default is a float is sent as one).
 */
export function confReply(
  changes: Readonly<Record<string, PyValue>>,
  o: { withDefaults: boolean; line: string },
): Record<string, PyValue> {
  const defaults = celeryConfDefaults(o.line);
  const always = controlQuirks(o.line).alwaysMaskBrokerUrl;
  const out: Record<string, PyValue> = {};
  if (o.withDefaults) Object.assign(out, defaults);
  for (const [k, v] of Object.entries(changes)) {
    const d = defaults[k];
    const typed =
      d instanceof PyFloat && typeof v === 'number' && Number.isInteger(v) ? new PyFloat(v) : v;
    out[k] = censorSetting(k, typed, always);
  }
  return out;
}
