/**
 * kombu's JSON dialects: `kombu-5.3` writes bytes, datetimes, Decimal and UUID as
 * `{"__type__": …, "__value__": …}` envelopes (kombu >= 5.3, `kombu/utils/json.py`); `kombu-legacy`
 * writes them as plain strings, as kombu <= 5.2 did. A setting of the app, so it lives here.
 */
export type JsonDialect = 'kombu-5.3' | 'kombu-legacy';
