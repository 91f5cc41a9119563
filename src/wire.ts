/**
 * `celery-wire/wire`: the pure wire codec, for tools that handle raw Celery messages (decoders,
 * proxies, tests). No I/O; everything here is also what the runtime itself uses.
 */
export { dumps, loads, type EncodedBody } from './serialization/registry';
export { compress, decompress } from './serialization/compression';
export { pyJsonDumps, pyJsonLoads, type JsonDialect } from './serialization/python-json';
export { pyRepr } from './protocol/repr';
export { saferepr } from './protocol/saferepr';
export {
  encodeTaskMessage,
  decodeTaskMessage,
  type DecodedTask,
  type EncodeEnv,
  type TaskInput,
} from './protocol/task-message';
export { encodeRedisEnvelope, decodeRedisEnvelope } from './protocol/redis-envelope';
export type { RawMessage, MessageProperties, DeliveryInfo } from './protocol/raw-message';
export {
  PyFloat,
  PyDateTime,
  PyDate,
  PyTime,
  PyDecimal,
  PyUUID,
  isPyDict,
  type PyValue,
} from './serialization/py-values';
