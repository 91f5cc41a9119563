import { Signature, type OptValue } from '../canvas/signature';
import type { PyValue } from '../serialization/py-values';
import type { ApplyOptions } from './apply-options';
import type { AsyncResult } from './async-result';

/** Sends tasks: the client or the app. */
export interface TaskSender {
  sendTask<R>(name: string, opts?: ApplyOptions): Promise<AsyncResult<R>>;
}

/** Default options of a task handle (a Python task's class attributes: `queue`, `priority`, …). */
export type TaskDefaults = Omit<ApplyOptions, 'args' | 'kwargs' | 'taskId'>;

/**
 * A typed stand-in for a Python task (`Task.delay`, `Task.apply_async`, `Task.s`). `A` is the
 * positional argument tuple, `R` the return value.
 */
export class TaskHandle<A extends PyValue[] = PyValue[], R = PyValue> {
  constructor(
    readonly name: string,
    private readonly sender: TaskSender,
    readonly defaults: TaskDefaults = {},
  ) {}

  /** `Task.delay(*args)`. */
  delay(...args: A): Promise<AsyncResult<R>> {
    return this.applyAsync({ args });
  }

  /**
   * `Task.apply_async(args, kwargs, **options)`: the handle's defaults first, the call's options
   * over them (`dict(self._get_exec_options(), **options)`).
   */
  applyAsync(opts: ApplyOptions & { args?: A } = {}): Promise<AsyncResult<R>> {
    return this.sender.sendTask<R>(this.name, { ...this.defaults, ...opts });
  }

  /**
   * `Task.s(*args, **kwargs)`: a canvas {@link Signature} (`celery/canvas.py`, `Signature`), so it
   * goes into `chain()`/`group()`/`chord()` and, as `link`/`linkError`, into apply options.
   * `options` are apply options in Celery's snake_case. The handle's defaults (queue, priority, …)
   * are not copied into them, as Celery's `Task.s` leaves options empty: pass them in `options`
   * to route a canvas step.
   */
  s(
    args: readonly PyValue[] = [],
    kwargs: Readonly<Record<string, PyValue>> = {},
    options: Readonly<Record<string, OptValue>> = {},
  ): Signature {
    return new Signature(this.name, { args, kwargs, options });
  }

  /** `Task.si(...)`: an immutable signature (the parent's result is not prepended). */
  si(
    args: readonly PyValue[] = [],
    kwargs: Readonly<Record<string, PyValue>> = {},
    options: Readonly<Record<string, OptValue>> = {},
  ): Signature {
    return new Signature(this.name, { args, kwargs, options, immutable: true });
  }
}
