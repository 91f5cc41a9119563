import { parseArgs } from 'node:util';
import { createApp } from '../app/app';
import {
  Beat,
  BeatPidbox,
  beatNodename,
  every,
  FileBeatStore,
  RedBeatStore,
  type BeatEntry,
  type BeatSchedule,
} from '../beat/index';
import { profileOf } from '../app/factories';
import { resolveConfig, type CeleryConfig } from '../config/config';
import { getProfile } from '../protocol/profiles';
import type { PyValue } from '../serialization/py-values';
import type { CliIo } from './io';
import { loadAppModule } from './worker';

export const BEAT_USAGE = `usage: celery-wire beat -A APP [options]

Send the app's periodic tasks (its config's beatSchedule) as Celery beat does.

options:
  -A, --app PATH           the app module (.js, .mjs, or .ts through tsx) exporting \`config\`
  -S, --scheduler NAME     redbeat (redbeat.RedBeatScheduler: the RedBeat store in Redis, with its
                           leader lock, shared with Python RedBeat) or default (a JSON file)
  -s, --schedule FILE      the default scheduler's file (beatScheduleFilename)
      --max-interval S     beatMaxLoopInterval: the longest sleep between checks (default 300)
      --enable-remote-control / --no-enable-remote-control
                           answer \`celery inspect ping\` as Celery 5.7's beat does, so beat can be
                           health-checked (overrides beatEnableRemoteControl, default off)
  -n, --hostname NAME      node name to answer remote control on (default celerybeat@%h)
  -b, --broker URL         brokerUrl
  -l, --loglevel LEVEL     debug | info | warning | error (default info)
  -h, --help               this text
`;

const LEVELS = ['debug', 'info', 'warning', 'error'];

function entriesOf(config: CeleryConfig): BeatEntry[] {
  return Object.entries(config.beatSchedule ?? {}).map(([name, e]) => {
    let schedule: BeatSchedule;
    if (typeof e.schedule === 'number')
      schedule = every(e.schedule, { relative: e.relative ?? false });
    else if ('isDue' in e.schedule && 'nextRunAfter' in e.schedule)
      schedule = e.schedule as BeatSchedule;
    else
      throw new Error(
        `beatSchedule.${name}.schedule: expected seconds, every(…), crontab(…) or solar(…)`,
      );
    return {
      name,
      task: e.task,
      schedule,
      args: (e.args ?? []) as PyValue[],
      kwargs: (e.kwargs ?? {}) as Record<string, PyValue>,
      options: (e.options ?? {}) as Record<string, PyValue>,
    };
  });
}

/** `celery-wire beat`: resolves to the exit status once stopped by SIGTERM/SIGINT. */
export async function beatCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        app: { type: 'string', short: 'A' },
        scheduler: { type: 'string', short: 'S' },
        schedule: { type: 'string', short: 's' },
        'max-interval': { type: 'string' },
        'enable-remote-control': { type: 'boolean' },
        'no-enable-remote-control': { type: 'boolean' },
        hostname: { type: 'string', short: 'n' },
        broker: { type: 'string', short: 'b' },
        loglevel: { type: 'string', short: 'l' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`celery-wire beat: ${(e as Error).message}\n\n${BEAT_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(BEAT_USAGE);
    return 0;
  }
  if (!values.app) {
    io.stderr(`celery-wire beat: -A/--app is required\n\n${BEAT_USAGE}`);
    return 2;
  }
  let config: CeleryConfig;
  let entries: BeatEntry[];
  try {
    const mod = await loadAppModule(values.app, { requireTasks: false });
    config = resolveConfig({
      ...mod.config,
      ...(values.broker ? { brokerUrl: values.broker } : {}),
      ...(values.scheduler ? { beatScheduler: values.scheduler } : {}),
      ...(values.schedule ? { beatScheduleFilename: values.schedule } : {}),
      ...(values['max-interval'] ? { beatMaxLoopInterval: Number(values['max-interval']) } : {}),
    });
    entries = entriesOf(config);
  } catch (e) {
    io.stderr(`celery-wire beat: ${(e as Error).message}\n`);
    return 2;
  }
  const min = Math.max(0, LEVELS.indexOf(values.loglevel?.toLowerCase() ?? 'info'));
  const log = (level: 'debug' | 'info' | 'warning' | 'error', message: string): void => {
    if (LEVELS.indexOf(level) < min) return;
    const line = `[${new Date().toISOString()}: ${level.toUpperCase()}/MainProcess] ${message}\n`;
    if (level === 'error' || level === 'warning') io.stderr(line);
    else io.stdout(line);
  };
  const redbeat = /redbeat/i.test(config.beatScheduler ?? '');
  const store = redbeat
    ? RedBeatStore.fromUrl(config.redbeatRedisUrl ?? config.brokerUrl, {
        ...(config.redbeatKeyPrefix !== undefined ? { keyPrefix: config.redbeatKeyPrefix } : {}),
        ...(config.redbeatLockKey !== undefined ? { lockKey: config.redbeatLockKey } : {}),
        timeZone: config.timezone ?? 'UTC',
      })
    : new FileBeatStore(config.beatScheduleFilename ?? 'celerybeat-schedule.json');
  const app = createApp(config);
  const maxInterval = config.beatMaxLoopInterval ?? 300;
  const brokerUri = config.brokerUrl.replace(/:[^:@/]*@/, ':**@');
  // `Service.remote_control`: the flag, else `beat_enable_remote_control` (default off).
  const remoteControl = values['no-enable-remote-control']
    ? false
    : (values['enable-remote-control'] ?? config.beatEnableRemoteControl ?? false);
  let pidbox: BeatPidbox | undefined;
  const beat: Beat = new Beat({
    store,
    entries,
    sender: app,
    maxInterval,
    ...(config.redbeatLockTimeout !== undefined ? { lockTimeout: config.redbeatLockTimeout } : {}),
    logger: log,
    onReady: async () => {
      if (!remoteControl) return;
      pidbox = new BeatPidbox({
        broker: await app.broker(),
        hostname: values.hostname ?? null,
        maxInterval,
        maxTickAge: config.beatRemoteControlMaxTickAge ?? null,
        tickAge: () => beat.tickAge(),
        namespace: config.controlExchange,
        accept: config.acceptContent,
        serializer: config.taskSerializer,
        jsonDialect: config.jsonDialect,
        queueExclusive: getProfile(profileOf(config.celeryLine)).exclusiveControlQueues === true,
        brokerUri,
        log,
      });
      await pidbox.start();
    },
  });
  io.stdout(
    `celery beat (celery-wire) is starting.\n` +
      `__    -    ... __   -        _\n` +
      `Configuration ->\n` +
      `    . broker -> ${brokerUri}\n` +
      `    . scheduler -> ${redbeat ? 'redbeat.schedulers.RedBeatScheduler' : 'celery-wire FileBeatStore'}\n` +
      `    . maxinterval -> ${String(maxInterval)} seconds\n` +
      (remoteControl ? `    . remote control -> ${beatNodename(values.hostname ?? null)}\n` : ''),
  );
  const stop = (): void => {
    void beat.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await beat.run();
  } catch (e) {
    log('error', `beat: ${(e as Error).message}`);
    return 1;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await pidbox?.stop().catch(() => undefined);
    await app.close();
    if (store instanceof RedBeatStore) await store.close();
  }
  return 0;
}
