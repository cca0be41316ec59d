/**
 * What the CLI prints, in two modes: for a person (short lines, aligned tables) or, with
 * `--json`, for a script (the API's own JSON, one document, or one line per item). Errors
 * go to stderr in both; the exit code says which kind of failure it was.
 */
import { InvalidArgumentError } from 'commander';
import type { BrowserfleetApiError, SessionView, TaskPage, TaskView } from '../client/index.js';

/** 4: this machine refused (a file that can't be read or written: `-o`, `--out-dir`, the batch file). */
export const EXIT = { ok: 0, failed: 1, usage: 2, api: 3, local: 4 } as const;

/** An error of this machine's own (ENOENT, EACCES, EISDIR …), not of the API or a task. */
export const isLocalError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';

/** A command line that can't be run as given, found while running it (exit 2). */
export class UsageError extends Error {}

/** `1280x720` → `{ width: 1280, height: 720 }`. */
export const viewport = (value: string): { width: number; height: number } => {
  const match = /^(\d{2,5})x(\d{2,5})$/.exec(value);
  if (match === null) throw new InvalidArgumentError('must be WIDTHxHEIGHT, e.g. 1280x720.');
  return { width: Number(match[1]), height: Number(match[2]) };
};

/** `a.b=1` → `{ a: { b: 1 } }`; a value that parses as JSON is taken as JSON. */
const setOption = (target: Record<string, unknown>, pair: string): void => {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UsageError(`--option ${pair}: must be key=value.`);
  const path = pair.slice(0, at).split('.');
  const raw = pair.slice(at + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] = typeof node[key] === 'object' && node[key] !== null ? node[key] : {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
};

/** A one-shot command's flags as the task's `options`. */
export const optionsFrom = (type: string, flags: Record<string, unknown>): Record<string, unknown> => {
  const options: Record<string, unknown> = {};
  if (flags.viewport !== undefined) options.viewport = flags.viewport;
  if (flags.waitUntil !== undefined) options.waitUntil = flags.waitUntil;
  if (flags.timeoutMs !== undefined) options.timeoutMs = flags.timeoutMs;
  if (flags.fullPage === true) options.fullPage = true;
  if (flags.format !== undefined) options.format = flags.format;
  if (type === 'scrape') {
    options.elements = ((flags.element as string[] | undefined) ?? []).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--element ${pair}: must be name=selector.`);
      return { name: pair.slice(0, at), selector: pair.slice(at + 1) };
    });
  }
  for (const pair of (flags.option as string[] | undefined) ?? []) setOption(options, pair);
  return options;
};

/** A hit of the result cache, for a person: where the result came from, and until when. */
export const cacheNote = (task: TaskView): string | undefined =>
  task.cache?.hit === true
    ? `cached result of task ${task.cache.sourceTaskId} (until ${task.cache.expiresAt}); no browser ran`
    : undefined;

export interface Output {
  task(task: TaskView): void;
  /** In human mode, a line on stderr saying a result printed to stdout came from the cache. */
  note(task: TaskView): void;
  failed(task: TaskView): void;
  saved(task: TaskView, file: string, bytes: number): void;
  session(session: SessionView): void;
  sessionList(sessions: SessionView[]): void;
  /** A page of tasks: a table and the cursor of the next page, or the page's JSON. */
  taskPage(page: TaskPage): void;
  /** Tasks as they come (`--all`): table rows (the header once), or one JSON line each. */
  taskRows(tasks: TaskView[], first: boolean): void;
  line(text: string, json: Record<string, unknown>): void;
  error(error: BrowserfleetApiError): void;
}

/** Rows as aligned columns. */
export const table = (rows: string[][]): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

/** Fixed widths (ids and times are), so pages printed one after another line up. */
const taskTable = (tasks: TaskView[], header: boolean): string[][] => {
  const rows = tasks.map((t) => [t.id, t.type.padEnd(10), t.status.padEnd(9), t.createdAt, t.url]);
  return header
    ? [['ID'.padEnd(36), 'TYPE'.padEnd(10), 'STATUS'.padEnd(9), 'CREATED'.padEnd(24), 'URL'], ...rows]
    : rows;
};

const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);

export const outputFor = (asJson: boolean): Output => ({
  task: (task) =>
    asJson
      ? json(task)
      : say(
          table([
            ['id', task.id],
            ['type', task.type],
            ['status', task.status],
            ['url', task.url],
            ['created', task.createdAt],
            ...(task.cache === undefined
              ? []
              : [['cache', cacheNote(task) ?? `miss (kept ${task.cacheTTL ?? 0} s)`]]),
            ...(task.result?.artifacts ?? []).map((a) => [
              'artifact',
              `${a.name} (${a.size} bytes) ${a.url}`,
            ]),
            ...(task.error === undefined ? [] : [['error', `${task.error.code}: ${task.error.message}`]]),
          ]),
        ),
  failed: (task) => {
    if (asJson) json(task);
    process.stderr.write(
      `browserfleet: task ${task.id} ${task.status}${task.error === undefined ? '' : `: ${task.error.code}: ${task.error.message}`}\n`,
    );
  },
  note: (task) => {
    const note = cacheNote(task);
    if (!asJson && note !== undefined) process.stderr.write(`browserfleet: ${note}\n`);
  },
  saved: (task, file, bytes) => {
    if (asJson) return json({ ...task, savedTo: file });
    const note = cacheNote(task);
    say(`${file} (${bytes} bytes) from task ${task.id}${note === undefined ? '' : `: ${note}`}`);
  },
  session: (session) =>
    asJson
      ? json(session)
      : say(
          table([
            ['id', session.id],
            ['status', session.status],
            ...(session.liveViewUrl === undefined ? [] : [['live view', session.liveViewUrl]]),
            ...(session.cdpUrl === undefined ? [] : [['cdp', session.cdpUrl]]),
            ...(session.playwrightUrl === undefined ? [] : [['playwright', session.playwrightUrl]]),
            ...(session.endReason === undefined
              ? []
              : [['ended', `${session.endReason.code}: ${session.endReason.message}`]]),
          ]),
        ),
  sessionList: (sessions) => {
    if (asJson) return json({ sessions });
    if (sessions.length === 0) return say('No sessions.');
    say(table([['ID', 'STATUS', 'CREATED'], ...sessions.map((s) => [s.id, s.status, s.createdAt])]));
  },
  taskPage: (page) => {
    if (asJson) return json(page);
    if (page.tasks.length === 0) say('No tasks.');
    else say(table(taskTable(page.tasks, true)));
    if (page.nextCursor !== undefined) say(`More: run again with --cursor ${page.nextCursor}`);
  },
  taskRows: (tasks, first) => {
    if (asJson) {
      for (const task of tasks) json(task);
      return;
    }
    if (tasks.length > 0) say(table(taskTable(tasks, first)));
  },
  line: (text, value) => (asJson ? json(value) : say(text)),
  error: (error) => {
    if (asJson)
      process.stderr.write(
        `${JSON.stringify({ error: { status: error.status, code: error.code, message: error.message } })}\n`,
      );
    else process.stderr.write(`browserfleet: ${error.message}\n`);
  },
});
