import { defineTask, PythonError } from '../../../src/index';

/** App module of the metrics test's CLI worker (`celery-wire worker -A …`). */
export const tasks = [
  defineTask('obs.metrics.ok', (x: number) => x * 2),
  defineTask('obs.metrics.fail', () => {
    throw new PythonError('ValueError', 'bad value', { excModule: 'builtins' });
  }),
];
