import { DecodeError, EncodeError } from './errors';

/**
 * Python's `pickle.UnpicklingError`, raised by the safe pickle reader for anything outside the
 * small set of opcodes and globals Celery's database backend writes (`opcode` or `global` names
 * the offender) and for truncated or malformed data.
 */
export class UnpicklingError extends DecodeError {
  /** The opcode byte (as `0x..`) and its name when the opcode was refused or malformed. */
  readonly opcode: string | undefined;
  /** `module.name` of a refused global. */
  readonly global: string | undefined;
  /** Byte offset of the offending opcode. */
  readonly offset: number;
  constructor(
    message: string,
    options: ErrorOptions & { offset: number; opcode?: string; global?: string },
  ) {
    super(message, options);
    this.name = 'UnpicklingError';
    this.offset = options.offset;
    this.opcode = options.opcode;
    this.global = options.global;
  }
}

/** Python's `pickle.PicklingError`: a value the pickle writer cannot represent. */
export class PicklingError extends EncodeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PicklingError';
  }
}
