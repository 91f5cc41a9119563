import { DEFAULT_CONFIG } from '../config/config';
import type { PyValue } from '../serialization/py-values';
import { listFixtures, loadFixture } from '../../test/support/fixtures';
import {
  globToRegExp,
  routeTask,
  type ExplicitRoute,
  type RouteSpec,
  type RoutingSettings,
} from './route';

const base: RoutingSettings = { ...DEFAULT_CONFIG };

describe('routeTask (celery/app/routes.py, Router.route + send_task_message)', () => {
  it('uses the anonymous exchange for the default direct queue', () => {
    const r = routeTask('t', [], {}, {}, base);
    expect([r.exchange, r.routingKey, r.queue.name, r.queue.exchange]).toEqual([
      '',
      'celery',
      'celery',
      'celery',
    ]);
  });

  it('prefers exact names over globs, first router wins, explicit options override', () => {
    const s: RoutingSettings = {
      ...base,
      taskRoutes: [{ 'a.*': 'globq', 'a.b': { queue: 'exact', priority: 5 } }, { 'a.b': 'second' }],
    };
    expect(routeTask('a.b', [], {}, {}, s).queue.name).toBe('exact');
    expect(routeTask('a.b', [], {}, {}, s).priority).toBe(5);
    expect(routeTask('a.c', [], {}, {}, s).queue.name).toBe('globq');
    expect(routeTask('a.b', [], {}, { queue: 'mine' }, s).queue.name).toBe('mine');
    expect(routeTask('zzz', [], {}, {}, s).queue.name).toBe('celery');
  });

  it('keeps a named topic exchange and adds x-max-priority', () => {
    const s: RoutingSettings = { ...base, taskQueueMaxPriority: 10 };
    const r = routeTask(
      't',
      [],
      {},
      { exchange: 'ex', exchangeType: 'topic', routingKey: 'k.1' },
      s,
    );
    expect([r.exchange, r.routingKey]).toEqual(['ex', 'k.1']);
    expect(r.queue.arguments).toEqual({ 'x-max-priority': 10 });
  });

  it('keeps an explicit exchange and key on the default queue; a direct route missing one goes anonymous', () => {
    const r = routeTask('t', [], {}, { exchange: 'ex', routingKey: 'rk' }, base);
    expect([r.exchange, r.routingKey, r.queue.name]).toEqual(['ex', 'rk', 'celery']);
    const anon = routeTask('t', [], {}, { queue: 'q', exchange: 'ex' }, base);
    expect([anon.exchange, anon.routingKey]).toEqual(['', 'q']);
  });

  it('translates globs like fnmatch (whole name)', () => {
    expect(globToRegExp('a.*').test('a.b.c')).toBe(true);
    expect(globToRegExp('a.*').test('xa.b')).toBe(false);
    expect(globToRegExp('a?[bc]*').test('axc')).toBe(true);
  });
});

describe('routeTask against where Celery published (route fixtures, both lines)', () => {
  type Dict = Record<string, PyValue>;
  const camel = (k: string): string => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const camelDict = (d: Dict): Dict =>
    Object.fromEntries(Object.entries(d).map(([k, v]) => [camel(k), v]));
  const cases = listFixtures('route').map(({ file, line }) => loadFixture(file, line));

  it('has routing cases for both lines', () => {
    expect(cases.filter((c) => c.line === '5.7').length).toBeGreaterThanOrEqual(10);
    expect(cases.filter((c) => c.line === '5.2').length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const conf = fx.input.conf as Dict;
    const routes = conf.task_routes as Record<string, PyValue> | undefined;
    const s: RoutingSettings = {
      ...base,
      ...(camelDict(conf) as Partial<RoutingSettings>),
      taskRoutes: routes
        ? Object.fromEntries(
            Object.entries(routes).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : (camelDict(v as Dict) as RouteSpec),
            ]),
          )
        : null,
    };
    const explicit = camelDict(fx.input.options as Dict) as ExplicitRoute;
    const r = routeTask(fx.input.task as string, [1, 2], {}, explicit, s);
    expect([r.exchange, r.routingKey]).toEqual([fx.expected.exchange, fx.expected.routing_key]);
    expect(r.priority ?? 0).toBe((fx.expected.properties as Dict).priority);
  });
});
