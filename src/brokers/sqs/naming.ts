/**
 * SQS queue names from kombu queue names (`kombu/transport/SQS`, `CHARS_REPLACE_TABLE`,
 * `Channel.entity_name`, `Channel.canonical_queue_name`; identical in kombu 5.2.4 and 5.7.0). Pure.
 */

/** Python's `string.punctuation`. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** Every punctuation character except `-`, `_`, `.` becomes `_`; `.` becomes `-`. */
function translate(name: string): string {
  let out = '';
  for (const ch of name) {
    if (ch === '.') out += '-';
    else if (ch !== '-' && ch !== '_' && PUNCTUATION.includes(ch)) out += '_';
    else out += ch;
  }
  return out;
}

/** `Channel.entity_name`: a `.fifo` suffix is kept, the rest translated. */
export function entityName(name: string): string {
  if (name.endsWith('.fifo')) return `${translate(name.slice(0, -'.fifo'.length))}.fifo`;
  return translate(name);
}

/** `Channel.canonical_queue_name`: the prefix is prepended *before* translation. */
export function canonicalQueueName(prefix: string, queue: string): string {
  return entityName(prefix + queue);
}

/** `_put` tests the kombu queue name (not the SQS one) for `.fifo`. */
export function isFifo(queue: string): boolean {
  return queue.endsWith('.fifo');
}
