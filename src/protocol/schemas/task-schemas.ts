/**
 * JSON schemas of inbound task messages (protocol v2 headers/body, v1 body, signatures). They are
 * only as strict as what real Celery always produces, so Python messages pass and garbage is
 * reported at the offending field. Sources: `celery/app/amqp.py` (`as_task_v2`, `as_task_v1`),
 * `celery/worker/request.py` (`Request.__init__`), `docs/internals/protocol.rst`.
 */
const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const intOrNull = { anyOf: [{ type: 'null' }, { pyInt: true }] } as const;
const numOrNull = { anyOf: [{ type: 'null' }, { pyNumber: true }] } as const;
const dict = { pyDict: true } as const;

/** A signature dict (`celery/canvas.py`, `Signature`). */
export const signatureSchema = {
  type: 'object',
  pyDict: true,
  required: ['task'],
  properties: {
    task: str,
    args: { type: 'array' },
    kwargs: dict,
    options: dict,
    subtask_type: strOrNull,
    immutable: { type: 'boolean' },
    chord_size: intOrNull,
  },
} as const;

const sigList = { anyOf: [{ type: 'null' }, { type: 'array', items: signatureSchema }] } as const;
const timelimit = {
  anyOf: [{ type: 'null' }, { type: 'array', maxItems: 2, items: numOrNull }],
} as const;

/** Protocol v2 headers: only `task` and `id` are required (`Request.__init__`). */
export const v2HeadersSchema = {
  type: 'object',
  required: ['task', 'id'],
  properties: {
    lang: strOrNull,
    task: str,
    id: str,
    shadow: strOrNull,
    eta: strOrNull,
    expires: strOrNull,
    group: strOrNull,
    group_index: intOrNull,
    retries: intOrNull,
    timelimit,
    root_id: strOrNull,
    parent_id: strOrNull,
    argsrepr: strOrNull,
    kwargsrepr: strOrNull,
    origin: strOrNull,
    ignore_result: { type: ['boolean', 'null'] },
    replaced_task_nesting: intOrNull,
    stamped_headers: { anyOf: [{ type: 'null' }, { type: 'array', items: str }] },
    stamps: { anyOf: [{ type: 'null' }, dict] },
    compression: str,
  },
} as const;

/** The v2 `embed` mapping; `null` is tolerated as Celery does (`**embed or {}`). */
export const embedSchema = {
  anyOf: [
    { type: 'null' },
    {
      type: 'object',
      pyDict: true,
      properties: {
        callbacks: sigList,
        errbacks: sigList,
        chain: sigList,
        chord: { anyOf: [{ type: 'null' }, signatureSchema] },
      },
    },
  ],
} as const;

/** The v2 body tuple `[args, kwargs, embed]` (`celery/app/trace.py`, `fast_trace_task` unpacks 3). */
export const v2BodySchema = {
  type: 'array',
  minItems: 3,
  maxItems: 3,
  items: [{ type: 'array' }, { type: 'object', pyDict: true }, embedSchema],
} as const;

/** A protocol v1 body (and the body of a hybrid message). */
export const v1BodySchema = {
  type: 'object',
  pyDict: true,
  required: ['task', 'id'],
  properties: {
    task: str,
    id: str,
    args: { type: 'array' },
    kwargs: dict,
    group: strOrNull,
    group_index: intOrNull,
    retries: intOrNull,
    eta: strOrNull,
    expires: strOrNull,
    utc: { type: ['boolean', 'null'] },
    callbacks: sigList,
    errbacks: sigList,
    timelimit,
    taskset: strOrNull,
    chord: { anyOf: [{ type: 'null' }, signatureSchema] },
  },
} as const;
