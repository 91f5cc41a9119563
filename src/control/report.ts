import { arch, release, type as osType } from 'node:os';
import { censorSetting } from '../protocol/control-conf';
import { controlQuirks } from '../protocol/control-quirks';
import { sanitizeUrl } from '../protocol/control-broker-info';
import { pyRepr } from '../protocol/repr';
import type { PyValue } from '../serialization/py-values';

/**
 * `app.bugreport()` (`celery/app/utils.py`, `BUGREPORT_INFO`) for a Node worker: the same
 * sections, with Node in place of Python and celery-wire in place of Celery; the settings part
 * is `conf.humanize()` (`key: value` per changed setting, censored).
 */
export function bugreport(o: {
  line: string;
  transport: string;
  resultBackend: string;
  changes: Readonly<Record<string, PyValue>>;
}): string {
  const always = controlQuirks(o.line).alwaysMaskBrokerUrl;
  const human = Object.entries(o.changes)
    .map(([k, v]) => `${k}: ${pyRepr(censorSetting(k, v, always))}`)
    .join('\n');
  return `
software -> celery-wire (celery ${o.line} wire protocol) node:${process.versions.node}
            v8:${process.versions.v8}
platform -> system:${osType()} arch:${arch()}
            kernel version:${release()} imp:Node.js
loader   -> celery-wire
settings -> transport:${o.transport} results:${o.resultBackend === 'disabled' ? 'disabled' : sanitizeUrl(o.resultBackend)}

${human}
`;
}
