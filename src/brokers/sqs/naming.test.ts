import { canonicalQueueName, entityName, isFifo } from './naming';

describe('SQS queue names (kombu Channel.entity_name / canonical_queue_name)', () => {
  // Expected values printed by kombu 5.7.0's own `Channel.entity_name`.
  const golden: Record<string, string> = {
    celery: 'celery',
    'a.b.c': 'a-b-c',
    'my queue!': 'my queue_',
    'x.fifo': 'x.fifo',
    'a.b.fifo': 'a-b.fifo',
    'q@h:1/2#3': 'q_h_1_2_3',
    'dash-under_score': 'dash-under_score',
    'é.ü': 'é-ü',
    'celery.pidbox': 'celery-pidbox',
    '.fifo': '.fifo',
  };
  it.each(Object.entries(golden))('%s → %s', (name, sqs) => {
    expect(entityName(name)).toBe(sqs);
  });

  it('prepends the prefix before translating it', () => {
    expect(canonicalQueueName('prod.', 'celery')).toBe('prod-celery');
    expect(canonicalQueueName('p.', 'jobs.fifo')).toBe('p-jobs.fifo');
  });

  it('recognises FIFO queues by the kombu name', () => {
    expect(isFifo('jobs.fifo')).toBe(true);
    expect(isFifo('jobs-fifo')).toBe(false);
  });
});
