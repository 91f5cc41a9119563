import { randomUUID } from 'node:crypto';

/** Source of task ids, delivery tags and ticket ids; injected so encoders stay deterministic. */
export type UuidFactory = () => string;

/** uuid4, as Celery's `uuid()` and kombu's `_next_delivery_tag` produce. */
export const uuid4: UuidFactory = () => randomUUID();
