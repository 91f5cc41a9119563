import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pyJsonDumps, pyJsonLoads } from '../../../src/serialization/python-json';
import { isPyDict, type PyValue } from '../../../src/serialization/py-values';
import {
  workerNode,
  type CanvasSpec,
  type CanvasStep,
  type CaseContext,
  type ConformanceCase,
} from './cases';
import type { Observation } from './observe';
import type { Transport } from './run-node-to-python';

function str(v: PyValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** A canvas case as the driver reads it (`conformance_driver.py`, `build_canvas`). */
function canvasSpec(spec: CanvasSpec): PyValue {
  const step = (s: CanvasStep): PyValue => ({ task: s.task, args: s.args });
  return {
    kind: spec.kind,
    steps: spec.steps.map(step),
    ...(spec.kind === 'chord' ? { body: step(spec.body) } : {}),
  };
}

const PEERS = resolve(__dirname, '..', '..', '..', 'python-peers');

/**
 * Python calls Node: real Celery (python-peers/peer/conformance_driver.py) sends every case to
 * the TypeScript worker's queue and reads the results with Python's own AsyncResult.
 */
export async function runPythonToNode(
  t: Transport,
  ctx: CaseContext,
  cases: readonly ConformanceCase[],
): Promise<Observation[]> {
  const spec = {
    protocol: ctx.protocol,
    cases: cases.map((c) => ({
      name: c.name,
      task: c.task,
      args: c.args,
      kwargs: c.kwargs ?? {},
      timeout: 30,
      ...(c.canvas === undefined ? {} : { canvas: canvasSpec(c.canvas) }),
      ...(c.control === undefined ? {} : { control: c.control, destination: [workerNode(ctx)] }),
      options: {
        queue: ctx.queue,
        serializer: ctx.serializer,
        ...(c.countdown === undefined ? {} : { countdown: c.countdown }),
        ...(c.expires === undefined ? {} : { expires: c.expires }),
      },
    })),
  };
  const stdout = await new Promise<string>((res, rej) => {
    const child = spawn(
      join(PEERS, `.venv-${t.pythonVenv?.(ctx.line) ?? ctx.line}`, 'bin', 'python'),
      ['-m', 'peer.conformance_driver'],
      {
        cwd: PEERS,
        env: {
          ...process.env,
          CELERY_BROKER_URL: t.brokerUrl,
          CELERY_RESULT_BACKEND: t.resultBackend,
          PYTHONWARNINGS: 'ignore',
        },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', rej);
    child.on('close', (code) => {
      if (code === 0) res(out);
      else rej(new Error(`conformance_driver exited ${code}: ${err.slice(-2000)}`));
    });
    // Tagged values (kombu ≥5.3 form) so the driver can rebuild bytes/datetimes exactly.
    child.stdin.end(pyJsonDumps(spec));
  });
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line): Observation => {
      const o = pyJsonLoads(line);
      if (!isPyDict(o)) throw new Error(`bad driver line: ${line}`);
      const x = o.exception;
      return {
        name: str(o.name),
        state: str(o.state),
        value: o.result ?? null,
        exception: isPyDict(x)
          ? { type: str(x.type), module: str(x.module), args: (x.args ?? []) as PyValue[] }
          : null,
        elapsed: Number(o.elapsed),
      };
    });
}
