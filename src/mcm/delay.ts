/** A wait that ends early, as an `aborted` McmError, when any of its signals aborts. */
import { McmError, McmOperation } from './errors';

export function delay(operation: McmOperation, ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  const watched = signals.filter((s): s is AbortSignal => s !== undefined);
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      for (const signal of watched) signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      stop();
      reject(new McmError({ operation, code: 'aborted' }));
    };
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    if (watched.some((signal) => signal.aborted)) return onAbort();
    for (const signal of watched) signal.addEventListener('abort', onAbort, { once: true });
  });
}
