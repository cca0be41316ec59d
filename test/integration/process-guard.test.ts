/**
 * The last line of defence, in a real process: an unhandled rejection is logged and the
 * process goes on; an uncaught exception is logged, the process drains, then exits 1.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';

it('keeps running past an unhandled rejection, drains and exits 1 on an uncaught exception', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/guarded-process.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line === 'still running') {
        child.stdin.write('throw\n');
        resolve();
      }
    });
  });
  expect(await exited).toBe(1);
  expect(lines).toEqual([
    'count: unhandledRejection',
    'log: unhandled rejection (kept running)',
    'still running',
    'count: uncaughtException',
    'log: uncaught exception (draining, then exiting)',
    'draining',
    'drained',
  ]);
});
