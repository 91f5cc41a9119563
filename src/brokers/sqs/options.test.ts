import { InvalidQueueException } from '../../errors/sqs';
import { parseSqsOptions } from './options';
import { delaySeconds } from './publish-options';

describe('SQS transport options (kombu SQS Channel properties)', () => {
  it("has kombu's defaults", () => {
    const o = parseSqsOptions({}, '5.7');
    expect(o).toMatchObject({
      region: 'us-east-1',
      queueNamePrefix: '',
      visibilityTimeout: 1800,
      waitTimeSeconds: 10,
      pollingInterval: 1,
      base64: true,
      systemAttributeNames: ['ApproximateReceiveCount'],
    });
  });

  it('takes the region from the option, then the AWS environment', () => {
    expect(
      parseSqsOptions({ region: 'eu-west-1' }, '5.7', { AWS_DEFAULT_REGION: 'x' }).region,
    ).toBe('eu-west-1');
    expect(
      parseSqsOptions({ region: '' }, '5.7', { AWS_DEFAULT_REGION: 'ap-south-1' }).region,
    ).toBe('ap-south-1');
  });

  it('reads visibility_timeout per line (5.2: `or 1800`; 5.7: int(float(v)), 0 kept)', () => {
    expect(parseSqsOptions({ visibility_timeout: 0 }, '5.2').visibilityTimeout).toBe(1800);
    expect(parseSqsOptions({ visibility_timeout: 0 }, '5.7').visibilityTimeout).toBe(0);
    expect(parseSqsOptions({ visibility_timeout: '42.9' }, '5.7').visibilityTimeout).toBe(42);
  });

  it('validates predefined queue FIFO names as kombu does', () => {
    expect(() =>
      parseSqsOptions({ predefined_queues: { q: { url: 'https://x/1/q.fifo' } } }, '5.7'),
    ).toThrow(InvalidQueueException);
    const o = parseSqsOptions(
      {
        predefined_queues: {
          'q.fifo': {
            url: 'https://x/1/q.fifo',
            access_key_id: 'a',
            secret_access_key: 'b',
            backoff_policy: { 1: 10, 2: 20 },
            backoff_tasks: ['t'],
          },
        },
      },
      '5.7',
    );
    expect(o.predefinedQueues.get('q.fifo')?.backoffPolicy.get(2)).toBe(20);
  });

  it('refuses options celery-wire does not implement instead of ignoring them', () => {
    expect(() => parseSqsOptions({ sts_role_arn: 'arn:x' }, '5.7')).toThrow(/sts_role_arn/);
  });

  it('computes fetch_message_attributes like get_message_attributes (5.7)', () => {
    const o = parseSqsOptions(
      {
        fetch_message_attributes: {
          MessageSystemAttributeNames: ['SentTimestamp'],
          MessageAttributeNames: ['b', 'a'],
        },
      },
      '5.7',
    );
    expect(o.systemAttributeNames).toEqual(['ApproximateReceiveCount', 'SentTimestamp']);
    expect(o.messageAttributeNames).toEqual(['a', 'b']);
    expect(
      parseSqsOptions({ fetch_message_attributes: ['all'] }, '5.7').systemAttributeNames,
    ).toEqual(['ALL']);
  });

  it('resolves per-message delays like _resolve_delay_seconds (5.7)', () => {
    expect(delaySeconds({ delay_seconds: 5.9 })).toBe(5);
    expect(delaySeconds({ DelaySeconds: '7' })).toBe(7);
    expect(delaySeconds({ delay_seconds: null, DelaySeconds: 3 })).toBe(3);
    expect(delaySeconds({ delay_seconds: 5000 })).toBe(900);
    expect(delaySeconds({ delay_seconds: -1 })).toBeUndefined();
    expect(delaySeconds({ delay_seconds: 'soon' })).toBeUndefined();
    expect(delaySeconds({})).toBeUndefined();
  });
});
