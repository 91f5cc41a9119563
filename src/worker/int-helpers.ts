/**
 * Compatibility shim: the worker test helpers live in `./testing/int-helpers` (excluded from the
 * build). Import from there; this re-export goes away once no caller uses the old path.
 */
export * from './testing/int-helpers';
