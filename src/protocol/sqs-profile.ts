/**
 * kombu's SQS transport where the lines differ (`kombu/transport/SQS/__init__.py`). Verified
 * against kombu 5.7.0 (Celery 5.7) and 5.2.4 (Celery 5.2); the lines in between keep 5.2's
 * behaviour here until each is checked against its own kombu.
 */
export interface SqsProfile {
  /** `visibility_timeout: 0` stands for the default 1800 (5.2: `get(...) or 1800`); 5.7 keeps 0. */
  zeroVisibilityIsDefault: boolean;
  /** `fetch_message_attributes` read, and `message_attributes` sent as SQS message attributes. */
  messageAttributes: boolean;
  /** `queue_tags` applied when a queue is created. */
  queueTags: boolean;
  /** A `MessageGroupId` property is sent on standard queues too. */
  groupOnStandardQueues: boolean;
  /** ETA/countdown become `DelaySeconds` (dropped on FIFO queues). */
  delaySeconds: boolean;
  /** A requeued message becomes visible after `wait_time_seconds`, not at once. */
  requeueAfterWaitTime: boolean;
  /** A rejected message without a redrive policy is deleted. */
  rejectDeletes: boolean;
}

export const SQS_57: SqsProfile = {
  zeroVisibilityIsDefault: false,
  messageAttributes: true,
  queueTags: true,
  groupOnStandardQueues: true,
  delaySeconds: true,
  requeueAfterWaitTime: true,
  rejectDeletes: true,
};
export const SQS_52: SqsProfile = {
  zeroVisibilityIsDefault: true,
  messageAttributes: false,
  queueTags: false,
  groupOnStandardQueues: false,
  delaySeconds: false,
  requeueAfterWaitTime: false,
  rejectDeletes: false,
};
