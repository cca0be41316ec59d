import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../errors.js';

/**
 * The error a browser run ends with when its signal fires: the reason itself if it is one
 * of ours (lease lost, cancelled, worker shutdown), `TIMEOUT` for the task's deadline.
 */
export const abortReasonToError = (signal: AbortSignal): BrowserfleetError => {
  const reason: unknown = signal.reason;
  if (isBrowserfleetError(reason)) return reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new BrowserfleetError(ERROR_CODES.TIMEOUT, 'The task ran past its timeoutMs deadline.');
  }
  return new BrowserfleetError(ERROR_CODES.WORKER_SHUTDOWN, 'The worker stopped the task.');
};
