/**
 * Fleet workers as real processes (the container's entrypoint), for tests that kill,
 * pause or stop them. Their JSON log lines are parsed so a test can await an event
 * instead of sleeping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LogLine {
  message: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  logs: LogLine[];
  /** Resolves with the first log line matching `predicate` (past or future). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts a worker. `wrap` turns its command line into the one to run (a bench runs it
 * under `taskset`, which execs it: the child's pid is the worker's).
 */
export const spawnWorker = (
  env: Record<string, string>,
  id: string,
  extra: Record<string, string> = {},
  wrap: (argv: string[]) => string[] = (argv) => argv,
): WorkerProcess => {
  const [command = process.execPath, ...args] = wrap([
    process.execPath,
    '--import',
    'tsx',
    'container/main.ts',
  ]);
  const child = spawn(command, args, {
    // Each worker its own inbox port (the cloud's own worker, if any, holds the configured one).
    env: { ...process.env, ...env, WORKER_ID: id, LOG_LEVEL: 'INFO', WORKER_INBOX_PORT: '0', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: { predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    id,
    child,
    logs,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLog: (predicate, timeoutMs = 60_000) => {
      const seen = logs.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${id}: no matching log in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
};
