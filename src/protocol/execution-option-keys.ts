/**
 * The keys of `Context.as_execution_options` per Celery line (read from each line's
 * `celery/app/task.py`): what a retry passes on, in order (a profile field).
 */

/** `Context.as_execution_options` keys of Celery 4.4–5.0 (`celery/app/task.py`). */
export const EXECUTION_OPTIONS_44 = [
  'task_id',
  'root_id',
  'parent_id',
  'group_id',
  'group_index',
  'chord',
  'chain',
  'link',
  'link_error',
  'expires',
  'soft_time_limit',
  'time_limit',
  'headers',
  'retries',
  'reply_to',
  'origin',
] as const;
/** 5.1 adds `shadow` after `group_index`. */
export const EXECUTION_OPTIONS_51 = [
  ...EXECUTION_OPTIONS_44.slice(0, 5),
  'shadow',
  ...EXECUTION_OPTIONS_44.slice(5),
] as const;
/** 5.2–5.7 add `replaced_task_nesting` before `origin` (5.3+ also the stamps, by name). */
export const EXECUTION_OPTIONS_52 = [
  ...EXECUTION_OPTIONS_51.slice(0, -1),
  'replaced_task_nesting',
  'origin',
] as const;
