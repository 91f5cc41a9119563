import { exceptionFromDict, prepareException, type ExceptionInfo } from '../protocol/exception';
import { reprStr } from '../protocol/repr';

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/;

/** `str(exc)` as Python prints it; `KeyError.__str__` shows the repr of a single key. */
export function pythonStr(info: ExceptionInfo): string {
  const [only] = info.args;
  if (info.excType === 'KeyError' && info.args.length === 1 && typeof only === 'string') {
    return reprStr(only);
  }
  return exceptionFromDict(prepareException(info)).message;
}

/**
 * A Python-looking traceback (`traceback.format_exception`) for a JavaScript error, so that the
 * stored `traceback` field reads as Celery's: frames outermost first ("most recent call last"),
 * then `<module>.<Type>: <message>` (the module is omitted for `builtins`, as Python does).
 */
export function formatTraceback(err: unknown, info: ExceptionInfo): string {
  const lines = ['Traceback (most recent call last):'];
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack.split('\n') : [];
  const frames: string[] = [];
  for (const l of stack.slice(1)) {
    const m = FRAME.exec(l);
    if (!m) continue;
    const [, fn = '<module>', file = '?', line = '0'] = m;
    frames.push(`  File "${file}", line ${line}, in ${fn}`);
  }
  lines.push(...frames.reverse());
  const qual =
    info.excModule === null || info.excModule === 'builtins'
      ? info.excType
      : `${info.excModule}.${info.excType}`;
  const msg = pythonStr(info);
  lines.push(msg === '' ? qual : `${qual}: ${msg}`);
  return `${lines.join('\n')}\n`;
}
