/**
 * A session command's own deadline: Puppeteer's timeouts cover navigations only, and a
 * click or an evaluate on a wedged page would otherwise hold the session's command queue.
 */
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';

/** `work`, or `TIMEOUT` once `ms` pass (`work` runs on; its late failure is ignored). */
export const withDeadline = async <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BrowserfleetError(ERROR_CODES.TIMEOUT, `${what} did not finish within ${ms} ms.`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    // Past the deadline the command's own outcome has no one left to answer.
    work.catch(() => {});
  }
};
