/**
 * `memory://` (kombu's in-process transport, `kombu/transport/__init__.py`, `TRANSPORT_ALIASES`)
 * and the in-memory result backend: Celery's `cache+memory://` (`celery/backends/cache.py`,
 * `backends['memory']`), with the bare `memory://` accepted for it too. Pure.
 */
export function isMemoryBrokerUrl(url: string): boolean {
  const first = url.split(';')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('memory://');
}

/** `cache+memory://…` or `memory://…` as `result_backend`. */
export function isMemoryBackendUrl(url: string | null | undefined): boolean {
  const u = (url ?? '').trim().toLowerCase();
  return u.startsWith('cache+memory://') || u.startsWith('memory://');
}
