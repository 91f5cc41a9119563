import { REDIS_URL } from '../../test/support/client/scenarios';
import { progressionWithPython } from '../../test/support/canvas/progression-suite';

// Node plays the worker for some canvas steps (progression.ts + the Redis chord join) while a real
// Python worker runs the others: both joins must agree on the same chord keys, per line.
progressionWithPython({ broker: REDIS_URL, backend: REDIS_URL, line: '5.7' });
progressionWithPython({ broker: REDIS_URL, backend: REDIS_URL, line: '5.2' });
