/**
 * Remote-control differences between Celery lines (`celery/worker/control.py` and
 * `celery/worker/state.py` at 5.2.7, 5.5.3, 5.6.3 and 5.7.0; kombu `Connection.info`/`as_uri`).
 */
export interface ControlQuirks {
  /** `query_task` reports `scheduled` for ETA requests (5.7 `scheduled_requests`); before, they are not found. */
  queryTaskScheduled: boolean;
  /** `hello` answers `revoked` as a list of ids (5.7) instead of `LimitedSet._data`. */
  helloRevokedList: boolean;
  /** `revoke_by_stamped_headers` exists (5.3+). */
  stampedRevoke: boolean;
  /** `enable_events`/`disable_events` answer `event dispatcher unavailable` without one (5.6+). */
  eventsUnavailableReply: boolean;
  /** `stats.broker` carries `credential_provider` (kombu 5.6+). */
  brokerCredentialProvider: boolean;
  /** `broker_url` in `conf` is masked even without a password (kombu 5.7). */
  alwaysMaskBrokerUrl: boolean;
}

const order = ['4.4', '5.0', '5.1', '5.2', '5.3', '5.4', '5.5', '5.6', '5.7'];
const atLeast = (line: string, min: string): boolean =>
  order.indexOf(line) >= order.indexOf(min) || !order.includes(line);

/** The quirks of a Celery line (`'5.7'`, `'5.2'`…; unknown lines behave as the newest). */
export function controlQuirks(line: string): ControlQuirks {
  return {
    queryTaskScheduled: atLeast(line, '5.7'),
    helloRevokedList: atLeast(line, '5.7'),
    stampedRevoke: atLeast(line, '5.3'),
    eventsUnavailableReply: atLeast(line, '5.6'),
    brokerCredentialProvider: atLeast(line, '5.6'),
    alwaysMaskBrokerUrl: atLeast(line, '5.7'),
  };
}
