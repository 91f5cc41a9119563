import { PyFloat, isPyDict, type PyValue } from '../../serialization/py-values';

/*
 * Sufficient (not necessary) conditions for the task schemas in `task-schemas.ts`, written out
 * by hand for the shapes Celery always sends. `true` means ajv would accept the value too, so the
 * decoder may skip it; `false` means "not sure": ajv then runs and reports the exact error and
 * path. They never reject anything themselves, so validation is never weakened.
 * `fast-checks.test.ts` holds them to that against ajv.
 */

function strOrNull(v: PyValue | undefined): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

function intOrNull(v: PyValue | undefined): boolean {
  return (
    v === undefined ||
    v === null ||
    typeof v === 'bigint' ||
    (typeof v === 'number' && Number.isInteger(v))
  );
}

function numOrNull(v: PyValue | undefined): boolean {
  return (
    v === undefined ||
    v === null ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    v instanceof PyFloat
  );
}

function timelimitOk(v: PyValue | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  const pair = v as readonly PyValue[];
  return pair.length <= 2 && numOrNull(pair[0]) && numOrNull(pair[1]);
}

function stampedHeadersOk(v: PyValue | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}

/** `v2HeadersSchema` holds for `h` (a plain object) when this returns true. */
export function plainV2Headers(h: Readonly<Record<string, PyValue>>): boolean {
  return (
    typeof h === 'object' &&
    !Array.isArray(h) &&
    typeof h.task === 'string' &&
    typeof h.id === 'string' &&
    strOrNull(h.lang) &&
    strOrNull(h.shadow) &&
    strOrNull(h.eta) &&
    strOrNull(h.expires) &&
    strOrNull(h.group) &&
    strOrNull(h.root_id) &&
    strOrNull(h.parent_id) &&
    strOrNull(h.argsrepr) &&
    strOrNull(h.kwargsrepr) &&
    strOrNull(h.origin) &&
    intOrNull(h.group_index) &&
    intOrNull(h.retries) &&
    intOrNull(h.replaced_task_nesting) &&
    timelimitOk(h.timelimit) &&
    (h.ignore_result === undefined ||
      h.ignore_result === null ||
      typeof h.ignore_result === 'boolean') &&
    stampedHeadersOk(h.stamped_headers) &&
    (h.stamps === undefined || h.stamps === null || isPyDict(h.stamps)) &&
    (h.compression === undefined || typeof h.compression === 'string')
  );
}

function absent(v: PyValue | undefined): boolean {
  return v === undefined || v === null;
}

/**
 * `v2BodySchema` holds for `body` when this returns true: `[list, dict, embed]` where the embed is
 * null or carries no callbacks, errbacks, chain or chord (any of those goes to ajv).
 */
export function plainV2Body(body: PyValue): boolean {
  if (!Array.isArray(body) || body.length !== 3) return false;
  const [args, kwargs, embed] = body as readonly PyValue[];
  if (!Array.isArray(args) || !isPyDict(kwargs)) return false;
  if (embed === null) return true;
  return (
    isPyDict(embed) &&
    absent(embed.callbacks) &&
    absent(embed.errbacks) &&
    absent(embed.chain) &&
    absent(embed.chord)
  );
}
