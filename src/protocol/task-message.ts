import { compress } from '../serialization/compression';
import type { PyValue } from '../serialization/py-values';
import { dumps } from '../serialization/registry';
import { getProfile } from './profiles';
import type { MessageProperties, RawMessage } from './raw-message';
import { expirationProperty, type EncodeEnv, type TaskInput } from './task-input';
import { buildTaskV1 } from './task-v1';
import { buildTaskV2 } from './task-v2';

export type { EncodeEnv, TaskInput } from './task-input';
export { decodeTaskMessage, type DecodedTask, type DecodeTaskOptions } from './task-decode';

const NO_OPTIONS = {} as const;

/**
 * Build the message `apply_async`/`send_task` would publish: the protocol builder
 * (`AMQP.as_task_v2`/`as_task_v1`), then `send_task_message` (custom headers merged, unknown
 * options as properties, delivery mode), then kombu `Producer.publish`/`_prepare` (serialize,
 * compress + `compression` header with the MIME type, `expiration` ms string, `priority`).
 *
 * Properties come out in kombu's order: `correlation_id, reply_to, [extras], delivery_mode,
 * [expiration], priority`.
 */
export function encodeTaskMessage(input: TaskInput, env: EncodeEnv): RawMessage {
  const profile = getProfile(input.profile);
  const parts = input.protocol === 1 ? buildTaskV1(input, env) : buildTaskV2(input, env);
  const headers: Record<string, PyValue> = parts.headers;
  // dict.update keeps existing keys in place and appends new ones, like spreading does here.
  if (input.headers) Object.assign(headers, input.headers);
  // The builders return fresh objects, so they are filled in place rather than copied.
  const properties: MessageProperties = parts.properties;
  if (input.extraProperties) Object.assign(properties, input.extraProperties);
  properties.delivery_mode = input.deliveryMode ?? 2;
  if (profile.expirationProperty) {
    const expiration = expirationProperty(input, env.now);
    if (expiration !== undefined) properties.expiration = expiration;
  }
  properties.priority = input.priority ?? 0;
  const encoded = dumps(
    parts.body,
    input.serializer ?? 'json',
    input.jsonDialect === undefined ? NO_OPTIONS : { jsonDialect: input.jsonDialect },
  );
  let body = encoded.body;
  if (input.compression) {
    const c = compress(body, input.compression);
    body = c.body;
    headers.compression = c.mimeType;
  }
  return {
    body,
    contentType: encoded.contentType,
    contentEncoding: encoded.contentEncoding,
    headers,
    properties,
  };
}
