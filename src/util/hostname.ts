import { hostname } from 'node:os';

/**
 * Celery's anonymous node name `gen<pid>@<hostname>` (`celery/utils/nodenames.py, anon_nodename`),
 * used as the `origin` header of messages a client sends.
 */
export function anonNodename(pid: number = process.pid, host: string = hostname()): string {
  return `gen${pid}@${host}`;
}

/**
 * Expands Celery's worker node name templates (`-n`): `%h` full hostname, `%n` the part before the
 * first dot, `%d` the domain (`celery/utils/nodenames.py, host_format`). A bare name gets `@<host>`.
 */
export function workerNodename(template: string, host: string = hostname()): string {
  const dot = host.indexOf('.');
  const shortName = dot === -1 ? host : host.slice(0, dot);
  const domain = dot === -1 ? '' : host.slice(dot + 1);
  const expanded = template.replace(/%([hnd%])/g, (_m, c: string) =>
    c === 'h' ? host : c === 'n' ? shortName : c === 'd' ? domain : '%',
  );
  return expanded.includes('@') ? expanded : `${expanded}@${host}`;
}
