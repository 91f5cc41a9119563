import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module type (an optional peer dependency). */
export type OtelApiModule = typeof OtelApi;

/**
 * `@opentelemetry/api`, loaded on first use so `import 'celery-wire'` works without it (as
 * `src/app/factories.ts` loads pg and the SQS client); `null` when it is not installed, which
 * makes tracing a no-op, as the API itself is without an SDK.
 */
export function loadOtelApi(): OtelApiModule | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
    return require('@opentelemetry/api') as OtelApiModule;
  } catch {
    return null;
  }
}
