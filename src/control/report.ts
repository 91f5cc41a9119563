import { arch, release, type as osType } from 'node:os';
import { censorSetting } from '../protocol/control-conf';
import { controlQuirks } from '../protocol/control-quirks';
import { sanitizeUrl } from '../protocol/control-broker-info';
import { pyRepr } from '../protocol/repr';
import type { PyValue } from '../serialization/py-values';

/**
 * `app.bugreport()` (`celery/app/utils.py`, `BUGREPORT_INFO`) for a Node worker: the same
 * sections, with Node in place of Python; the settings part is `conf.humanize()` (`key: value`
 * per changed setting, censored). The software line keeps Celery's `celery:<version> (<codename>)`
 * shape, with the wire line as the version and celery-wire as the codename: tools (and Celery's
 * own `test_report`) look for `software -> celery:`, and the rest of the line says it is Node.
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
software -> celery:${o.line} (celery-wire) node:${process.versions.node}
            v8:${process.versions.v8}
platform -> system:${osType()} arch:${arch()}
            kernel version:${release()} imp:Node.js
loader   -> celery-wire
settings -> transport:${o.transport} results:${o.resultBackend === 'disabled' ? 'disabled' : sanitizeUrl(o.resultBackend)}

${human}
`;
}
