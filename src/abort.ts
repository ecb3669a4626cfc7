// The run's deadline and cancellation reach every wait, including calls (MSAL's token
// request, @actions/core's OIDC request) that take no abort signal of their own.

/** Why the run stopped early: a signal from the runner or timeout-seconds. */
export class Stopped extends Error {
  readonly by: 'signal' | 'timeout';

  constructor(message: string, by: 'signal' | 'timeout') {
    super(message);
    this.name = 'Stopped';
    this.by = by;
  }
}

export const isStopped = (error: unknown): error is Stopped => error instanceof Stopped;

/** Settles like `work`, or rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** When the run was stopped (Date.now()), for the exit's own timing line. */
let stoppedAt: number | undefined;

/** Milliseconds since the run was stopped; undefined when it was not. */
export const sinceStop = (): number | undefined => (stoppedAt === undefined ? undefined : Date.now() - stoppedAt);

/** One controller for the whole run: SIGINT, SIGTERM and the deadline all abort it. */
export function runSignal(timeoutSeconds: number): AbortController {
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => (stoppedAt = Date.now()), { once: true });
  const stop = (signal: NodeJS.Signals) => controller.abort(new Stopped(`Cancelled by ${signal}.`, 'signal'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = setTimeout(() => controller.abort(new Stopped(`Timed out after ${timeoutSeconds} s (timeout-seconds).`, 'timeout')), timeoutSeconds * 1000);
  timer.unref();
  return controller;
}
