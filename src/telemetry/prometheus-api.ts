import type * as PromClient from 'prom-client';

/** The `prom-client` module type (an optional peer dependency). */
export type PromClientModule = typeof PromClient;

/**
 * `prom-client`, loaded on first use so `import 'celery-wire'` works without it (as
 * `src/app/factories.ts` loads pg and the SQS client).
 */
export function loadPromClient(): PromClientModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
    return require('prom-client') as PromClientModule;
  } catch (e) {
    throw new Error('Prometheus metrics need the optional peer dependency prom-client', {
      cause: e,
    });
  }
}
