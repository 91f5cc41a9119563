export * from './errors';
export {
  InequivalentExchangeError,
  InequivalentQueueArgumentsError,
  PreconditionFailedError,
} from './precondition';
