import { pathToFileURL } from 'node:url';
import type { TaskDefinition } from '../task';

export interface Lookup {
  get(name: string): TaskDefinition | undefined;
  names(): string[];
}

function asLookup(v: unknown): Lookup | null {
  if (Array.isArray(v)) {
    const m = new Map((v as TaskDefinition[]).map((d) => [d.name, d]));
    return { get: (n) => m.get(n), names: () => [...m.keys()] };
  }
  // A TaskRegistry, possibly from another copy of celery-wire (so no instanceof).
  const r = v as Partial<Lookup> | null;
  if (typeof r === 'object' && r !== null && typeof r.get === 'function') {
    return r.names === undefined ? { get: r.get.bind(r), names: () => [] } : (r as Lookup);
  }
  return null;
}

/**
 * In the thread: load the app module the worker CLI was given (`-A`), as the CLI does (`.ts`
 * through tsx's CommonJS register, `.mjs` with `import()`), and return its task lookup. A
 * prefork child imports the app the same way (`celery/concurrency/prefork.py`,
 * `process_initializer`).
 */
export async function loadTasks(path: string): Promise<Lookup> {
  let mod: Record<string, unknown>;
  if (path.endsWith('.mjs')) {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only probe for a TS loader
    if (/\.[cm]?ts$/.test(path) && !(require.extensions as Record<string, unknown>)['.ts']) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, loaded on demand
      (require('tsx/cjs/api') as { register: () => unknown }).register();
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- user module path at runtime
    mod = require(path) as Record<string, unknown>;
  }
  const d = mod.default as Record<string, unknown> | undefined;
  const found =
    asLookup(mod.tasks) ??
    (Array.isArray(d) ? asLookup(d) : null) ??
    asLookup(d?.tasks) ??
    (d !== undefined && typeof d.get === 'function' ? asLookup(d) : null);
  if (found === null) throw new Error(`${path} exports no tasks`);
  return found;
}
