import { AMQP_URL, REDIS_URL } from '../../test/support/client/scenarios';
import { mixedLanguageCanvas } from '../../test/support/canvas/mixed-suite';

// A real Python worker and our TypeScript worker share every canvas: newest and older Celery line
// over Redis, and the newest over RabbitMQ (result backend Redis: chords need its native join).
mixedLanguageCanvas({ broker: REDIS_URL, backend: REDIS_URL, line: '5.7' });
mixedLanguageCanvas({ broker: REDIS_URL, backend: REDIS_URL, line: '5.2' });
mixedLanguageCanvas({ broker: AMQP_URL, backend: REDIS_URL, line: '5.7' });
