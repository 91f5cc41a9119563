import { BrokerError } from './errors';

/**
 * kombu's SQS transport exceptions (`kombu/transport/SQS/exceptions.py`, kombu 5.7; the first two
 * also in kombu 5.2's `kombu/transport/SQS.py`), same names so that logs read the same.
 */

/** Predefined queues are in use and a queue outside them was used. */
export class UndefinedQueueException extends BrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UndefinedQueueException';
  }
}

/** `predefined_queues` is misconfigured (FIFO name/URL mismatch). */
export class InvalidQueueException extends BrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidQueueException';
  }
}

/** SQS refused an operation (`ClientError`): `awsCode` is SQS's error code, e.g. `AccessDenied`. */
export class SqsClientError extends BrokerError {
  readonly awsCode: string | undefined;
  constructor(message: string, options?: ErrorOptions & { awsCode?: string }) {
    super(message, options);
    this.name = 'SqsClientError';
    this.awsCode = options?.awsCode;
  }
}
