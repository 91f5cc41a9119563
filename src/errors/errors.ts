/**
 * One error tree for the whole library. Names follow Celery/kombu where the meaning matches
 * (`celery/exceptions.py`, `kombu/exceptions.py`) so that logs read the same on both sides.
 * `this.name` is set explicitly because class names do not survive minification.
 */
export type ErrorCode =
  | 'E_PROTOCOL_DECODE'
  | 'E_PROTOCOL_UNSUPPORTED_VERSION'
  | 'E_INVALID_TASK'
  | 'E_ENCODE'
  | 'E_DECODE'
  | 'E_SERIALIZER_NOT_INSTALLED'
  | 'E_CONTENT_DISALLOWED'
  | 'E_BROKER'
  | 'E_BACKEND'
  | 'E_TIMEOUT'
  | 'E_TASK_REVOKED'
  | 'E_NOT_REGISTERED'
  | 'E_CHORD'
  | 'E_TASK_FAILED'
  | 'E_CONFIG'
  | 'E_SECURITY'
  | 'E_TOO_LARGE';

/** Root of every error celery-wire throws. */
export class CeleryError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CeleryError';
    this.code = code;
  }
}

/** A message that is not a Celery task message, or whose fields are malformed. */
export class ProtocolError extends CeleryError {
  /** JSON-pointer-ish path of the offending field, when known (e.g. `/headers/timelimit`). */
  readonly path: string | undefined;
  constructor(message: string, options?: ErrorOptions & { path?: string; code?: ErrorCode }) {
    super(options?.code ?? 'E_PROTOCOL_DECODE', message, options);
    this.name = 'ProtocolError';
    this.path = options?.path;
  }
}

/** Celery's `InvalidTaskError`: a task message whose fields cannot be used (bad eta, kwargs not a mapping). */
export class InvalidTaskError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions & { path?: string }) {
    super(message, { ...options, code: 'E_INVALID_TASK' });
    this.name = 'InvalidTaskError';
  }
}

/** Base of kombu's serialization errors. */
export class SerializationError extends CeleryError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'SerializationError';
  }
}

/** kombu `EncodeError`: a value the chosen serializer cannot represent. */
export class EncodeError extends SerializationError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_ENCODE', message, options);
    this.name = 'EncodeError';
  }
}

/** kombu `DecodeError`: bytes the serializer cannot parse. */
export class DecodeError extends SerializationError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_DECODE', message, options);
    this.name = 'DecodeError';
  }
}

/** kombu `SerializerNotInstalled`: an unknown serializer name or content type. */
export class SerializerNotInstalledError extends SerializationError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_SERIALIZER_NOT_INSTALLED', message, options);
    this.name = 'SerializerNotInstalledError';
  }
}

/** kombu `ContentDisallowed`: a content type outside the accept list (pickle, by default). */
export class ContentDisallowedError extends SerializationError {
  readonly contentType: string;
  constructor(contentType: string, options?: ErrorOptions) {
    super(
      'E_CONTENT_DISALLOWED',
      `Refusing to deserialize untrusted content of type ${contentType}`,
      options,
    );
    this.name = 'ContentDisallowedError';
    this.contentType = contentType;
  }
}

/**
 * A message body, its decompressed form, or a result document is larger than the configured cap
 * (`messageMaxSize`, `messageMaxDecompressedSize`, `resultMaxSize`). Celery/kombu have no such
 * limit; the worker treats it as an invalid message (rejected without requeue, so a dead-letter
 * exchange receives it) instead of letting one message exhaust the process's memory.
 */
export class MessageTooLargeError extends CeleryError {
  /** What was too large. */
  readonly what: 'message' | 'decompressed body' | 'result';
  /** The cap in bytes. */
  readonly limit: number;
  constructor(
    what: MessageTooLargeError['what'],
    limit: number,
    options?: ErrorOptions & { size?: number },
  ) {
    const size = options?.size === undefined ? 'more than' : `${String(options.size)} bytes, over`;
    super('E_TOO_LARGE', `${what} too large: ${size} the limit of ${String(limit)} bytes`, options);
    this.name = 'MessageTooLargeError';
    this.what = what;
    this.limit = limit;
  }
}

/**
 * A broker refused or failed an operation (kombu's `OperationalError`/`ChannelError` family): a
 * declaration conflicting with an existing queue (AMQP 406 PRECONDITION_FAILED), a nacked publish,
 * an unroutable frame. `replyCode` carries the AMQP reply code when the broker sent one.
 */
export class BrokerError extends CeleryError {
  readonly replyCode: number | undefined;
  constructor(message: string, options?: ErrorOptions & { replyCode?: number }) {
    super('E_BROKER', message, options);
    this.name = 'BrokerError';
    this.replyCode = options?.replyCode;
  }
}

/** The connection to the broker was lost or could not be established (kombu `ConnectionError`). */
export class BrokerConnectionError extends BrokerError {
  constructor(message: string, options?: ErrorOptions & { replyCode?: number }) {
    super(message, options);
    this.name = 'BrokerConnectionError';
  }
}

/**
 * kombu's `InconsistencyError`: the broker's state contradicts this node's, e.g. another node of
 * the same name holds the exclusive pidbox queue (`kombu/pidbox.py`, `Node.Consumer` on a 405).
 */
export class InconsistencyError extends BrokerError {
  constructor(message: string, options?: ErrorOptions & { replyCode?: number }) {
    super(message, options);
    this.name = 'InconsistencyError';
  }
}

/**
 * A `mandatory` publish that the broker handed back as unroutable (AMQP `basic.return`, 312
 * NO_ROUTE: no queue bound to the routing key at that moment). `returned` are the items concerned.
 */
export class MessageReturnedError extends BrokerError {
  readonly returned: readonly unknown[];
  constructor(
    message: string,
    returned: readonly unknown[],
    options?: ErrorOptions & { replyCode?: number },
  ) {
    super(message, options);
    this.name = 'MessageReturnedError';
    this.returned = returned;
  }
}

/** A result backend failed or refused an operation (Celery `celery.exceptions.BackendError`). */
export class BackendError extends CeleryError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BACKEND', message, options);
    this.name = 'BackendError';
  }
}

/** Reading a task's result document failed (Celery `celery.exceptions.BackendGetMetaError`). */
export class BackendGetMetaError extends BackendError {
  readonly taskId: string;
  constructor(message: string, options: ErrorOptions & { taskId: string }) {
    super(message, options);
    this.name = 'BackendGetMetaError';
    this.taskId = options.taskId;
  }
}

/**
 * Waiting for a result took longer than allowed. `name` is `TimeoutError`, as Celery's
 * `celery.exceptions.TimeoutError` ("The operation timed out.").
 */
export class CeleryTimeoutError extends CeleryError {
  constructor(message = 'The operation timed out.', options?: ErrorOptions) {
    super('E_TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

/**
 * A task ended in FAILURE: the exception Celery stored, rebuilt (`celery/backends/base.py`,
 * `Backend.exception_to_python`). `message` reads like Python's traceback tail, `ExcType: msg`.
 */
export class TaskFailedError extends CeleryError {
  readonly taskId: string;
  /** `type(exc).__qualname__`, e.g. `ValueError`. */
  readonly excType: string;
  /** `type(exc).__module__`, e.g. `builtins` (null when the writer stored none). */
  readonly excModule: string | null;
  /** `str(exc)`. */
  readonly excMessage: string;
  /** `exc.args` as stored (`exc_message`). */
  readonly excArgs: readonly unknown[];
  /** The worker's formatted traceback, when stored. */
  readonly traceback: string | null;
  constructor(
    info: {
      taskId: string;
      excType: string;
      excModule: string | null;
      excMessage: string;
      excArgs: readonly unknown[];
      traceback: string | null;
    },
    options?: ErrorOptions,
  ) {
    super(
      'E_TASK_FAILED',
      info.excMessage ? `${info.excType}: ${info.excMessage}` : info.excType,
      options,
    );
    this.name = 'TaskFailedError';
    this.taskId = info.taskId;
    this.excType = info.excType;
    this.excModule = info.excModule;
    this.excMessage = info.excMessage;
    this.excArgs = info.excArgs;
    this.traceback = info.traceback;
  }
}

/** The task was revoked or expired (Celery `celery.exceptions.TaskRevokedError`). */
export class TaskRevokedError extends CeleryError {
  readonly taskId: string;
  constructor(message: string, options: ErrorOptions & { taskId: string }) {
    super('E_TASK_REVOKED', message, options);
    this.name = 'TaskRevokedError';
    this.taskId = options.taskId;
  }
}

/**
 * Signing or verifying a message failed (`celery.exceptions.SecurityError`): unsigned, badly
 * signed, unknown or expired certificate, unusable key. Messages read like Celery's
 * (`Unable to deserialize: …`, `Unknown certificate: …`, `Bad signature: …`).
 */
export class SecurityError extends CeleryError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_SECURITY', message, options);
    this.name = 'SecurityError';
  }
}

/** Type guard for any error raised by celery-wire. */
export function isCeleryError(e: unknown): e is CeleryError {
  return e instanceof CeleryError;
}

/** Celery's `ImproperlyConfigured`: settings that cannot work together (e.g. `setup_security`). */
export class ImproperlyConfiguredError extends CeleryError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CONFIG', message, options);
    this.name = 'ImproperlyConfigured';
  }
}
