import { createApp } from '../../../src/app/app';
import { TaskFailedError, TaskRevokedError, isCeleryError } from '../../../src/errors/errors';
import type { CeleryConfig, CeleryLine } from '../../../src/config/config';
import type { PyValue } from '../../../src/serialization/py-values';
import { applyCanvas } from '../../../src/canvas/index';
import { chain, chord, group } from '../../../src/canvas/primitives';
import { signature, type Signature } from '../../../src/canvas/signature';
import {
  workerNode,
  type CanvasSpec,
  type CanvasStep,
  type CaseContext,
  type ConformanceCase,
} from './cases';
import type { Observation } from './observe';

/** Broker and backend of one column group of the matrix. */
export interface Transport {
  name: string;
  brokerUrl: string;
  resultBackend: string;
  /** Extra settings of this estate (e.g. quorum queues), on both the client and the workers. */
  config?: Partial<CeleryConfig>;
  /** Environment both languages' peers read for the same estate (`CELERY_QUORUM_QUEUES`). */
  env?: Record<string, string>;
  /** Why a case cannot apply on this estate, as Celery has it; such cases are listed, not run. */
  notApplicable?: (c: ConformanceCase) => string | null;
  /** The Python peer's venv (`python-peers/.venv-<name>`); default the line's own. */
  pythonVenv?: (line: CeleryLine) => string;
  /** The Python worker is started as the SQS suites start it (`test/support/sqs.ts`). */
  sqsWorker?: boolean;
}

/** A catalogue canvas with celery-wire's own canvas API, every signature on `queue`. */
function buildCanvas(spec: CanvasSpec, queue: string): Signature {
  const sig = (s: CanvasStep): Signature => signature(s.task, { args: s.args, options: { queue } });
  const steps = spec.steps.map(sig);
  switch (spec.kind) {
    case 'chain':
      return chain(...steps);
    case 'group':
      return group(...steps);
    case 'chord':
      return chord(steps, sig(spec.body));
  }
}

/**
 * Node calls Python: celery-wire's client sends every case to a real Celery worker's queue and
 * reads the results with its own AsyncResult.
 */
export async function runNodeToPython(
  t: Transport,
  ctx: CaseContext,
  cases: readonly ConformanceCase[],
): Promise<Observation[]> {
  const app = createApp({
    brokerUrl: t.brokerUrl,
    resultBackend: t.resultBackend,
    celeryLine: ctx.line,
    taskSerializer: ctx.serializer,
    taskProtocol: ctx.protocol,
    acceptContent: ['json', 'msgpack', 'yaml'],
    ...(t.config ?? {}),
    env: {},
  });
  try {
    const sent = await Promise.all(
      cases.map(async (c) => {
        const started = performance.now();
        if (c.control === 'ping') {
          const replies = app.control.ping({ destination: [workerNode(ctx)], timeout: 10 });
          return { c, r: { get: () => replies }, started };
        }
        if (c.canvas !== undefined) {
          const r = await applyCanvas(buildCanvas(c.canvas, ctx.queue), app);
          return { c, r, started };
        }
        const r = await app.sendTask(c.task, {
          args: c.args,
          kwargs: c.kwargs ?? {},
          queue: ctx.queue,
          ...(c.countdown === undefined ? {} : { countdown: c.countdown }),
          ...(c.expires === undefined ? {} : { expires: c.expires }),
        });
        return { c, r, started };
      }),
    );
    return await Promise.all(
      sent.map(async ({ c, r, started }): Promise<Observation> => {
        const base = { name: c.name };
        try {
          const value = await r.get({ timeout: 30 });
          return {
            ...base,
            state: 'SUCCESS',
            value,
            exception: null,
            elapsed: (performance.now() - started) / 1000,
          };
        } catch (e) {
          const elapsed = (performance.now() - started) / 1000;
          if (e instanceof TaskFailedError) {
            return {
              ...base,
              state: 'FAILURE',
              value: null,
              exception: {
                type: e.excType,
                module: e.excModule ?? '',
                args: e.excArgs as PyValue[],
              },
              elapsed,
            };
          }
          if (e instanceof TaskRevokedError) {
            return { ...base, state: 'REVOKED', value: null, exception: null, elapsed };
          }
          const name = isCeleryError(e) ? e.name : 'Error';
          return {
            ...base,
            state: name === 'TimeoutError' ? 'TIMEOUT' : 'ERROR',
            value: null,
            exception: {
              type: name,
              module: 'celery-wire',
              args: [e instanceof Error ? e.message : String(e)],
            },
            elapsed,
          };
        }
      }),
    );
  } finally {
    await app.close();
  }
}
