/**
 * A process under the process guard, for its test: it has work in flight (a timer standing
 * in for a task), then meets an unhandled rejection and, once told on stdin, an uncaught
 * exception. Each step is a line on stdout.
 */
import { createInterface } from 'node:readline';
import { installProcessGuard } from '../../shared/adapters/process-guard.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const work = setInterval(() => {}, 1_000);
installProcessGuard({
  log: (event) => say(`log: ${event}`),
  count: (kind) => say(`count: ${kind}`),
  drain: async () => {
    say('draining');
    clearInterval(work);
    await new Promise((r) => setTimeout(r, 50));
    say('drained');
  },
});

void Promise.reject(new Error('somebody forgot to await me'));
setTimeout(() => say('still running'), 20);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'throw') {
    setImmediate(() => {
      throw new Error('a bug in a callback');
    });
  }
});
