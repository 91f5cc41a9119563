// Celery's `task_routes` setting, typed. It lives with the configuration (the bottom layer) so that
// configuration imports nothing above it; the router (src/client/router.ts) interprets it.
// Router functions see Python values (`PyValue` in celery-wire's value model), typed `unknown` here.

/** A route value as in Celery's `task_routes`: a queue name or a dict of routing options. */
export type RouteSpec =
  | string
  | {
      queue?: string;
      exchange?: string;
      exchangeType?: 'direct' | 'topic' | 'fanout';
      routingKey?: string;
      priority?: number;
    };

/** A router function (`router(name, args, kwargs, options, task=…)` in Celery). */
export type RouterFunction = (
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
) => RouteSpec | null | undefined;

/** Celery's `task_routes`: exact names or glob patterns → route; or router functions. */
export type TaskRoutes =
  | Readonly<Record<string, RouteSpec>>
  | readonly (Readonly<Record<string, RouteSpec>> | RouterFunction)[];
