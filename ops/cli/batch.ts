/**
 * `browserfleet run tasks.jsonl`: every line a task body, run with bounded concurrency, a
 * progress bar on a terminal (cli-progress), a summary table at the end. Resumable: each
 * line's Idempotency-Key is derived from its content and the file's path (run-keys.ts), so
 * running the same file again (within the API's 24 h), even with lines added, answers the
 * tasks that already ran or are still running instead of running them twice, and runs only
 * what never got in. A line may carry its own `idempotencyKey`.
 */
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { BrowserfleetClient, TaskRequest } from '../client/index.js';
import { BrowserfleetApiError } from '../client/index.js';
import { table, UsageError } from './output.js';
import { runKeys } from './run-keys.js';

export interface BatchOptions {
  file: string;
  concurrency: number;
  outDir?: string;
  json: boolean;
}

interface LineResult {
  line: number;
  taskId?: string;
  status: string;
  error?: { code: string; message: string };
  savedTo?: string;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'text/markdown': 'md',
  'text/html': 'html',
  'application/json': 'json',
};

interface Line {
  line: number;
  /** The task body, without the line's own `idempotencyKey`. */
  body: Record<string, unknown>;
  ownKey?: string;
}

const parseLines = (text: string): Line[] =>
  text
    .split('\n')
    .map((raw, i) => ({ raw: raw.trim(), line: i + 1 }))
    .filter(({ raw }) => raw !== '' && !raw.startsWith('#'))
    .map(({ raw, line }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (error) {
        throw new UsageError(`line ${line}: not JSON (${(error as Error).message}).`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new UsageError(`line ${line}: must be a JSON object (a task body).`);
      }
      const { idempotencyKey, ...body } = parsed as Record<string, unknown>;
      if (idempotencyKey === undefined) return { line, body };
      if (typeof idempotencyKey !== 'string') {
        throw new UsageError(`line ${line}: idempotencyKey must be a string.`);
      }
      return { line, body, ownKey: idempotencyKey };
    });

/**
 * Each line's Idempotency-Key: its own, or one derived from its body within the file's
 * scope. The scope is the file's real path, not its content, so an edited file still
 * resumes; a line that brings its own key takes no part in counting identical lines.
 */
const keysOf = async (file: string, items: Line[]): Promise<string[]> => {
  const derived = runKeys(
    await realpath(file),
    items.filter((item) => item.ownKey === undefined).map((item) => item.body),
  );
  let at = 0;
  return items.map((item) => item.ownKey ?? (derived[at++] as string));
};

export const runBatch = async (
  client: BrowserfleetClient,
  options: BatchOptions,
): Promise<{ total: number; succeeded: number; failed: number }> => {
  const items = parseLines(await readFile(options.file, 'utf8'));
  const keys = await keysOf(options.file, items);
  if (options.outDir !== undefined) await mkdir(options.outDir, { recursive: true });
  const showBar = !options.json && process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: 'tasks {bar} {value}/{total} | ok {ok} | failed {failed} | eta {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const counts = { ok: 0, failed: 0 };
  if (showBar) bar.start(items.length, 0, counts);

  const results: LineResult[] = [];
  const runOne = async (item: Line, key: string): Promise<LineResult> => {
    try {
      const {
        task,
        body: bytes,
        contentType,
      } = await client.tasks.run(item.body as TaskRequest, { idempotencyKey: key });
      const result: LineResult = { line: item.line, taskId: task.id, status: task.status };
      if (task.error !== undefined) result.error = task.error;
      if (options.outDir !== undefined && task.status === 'succeeded') {
        const data = bytes ?? new TextEncoder().encode(JSON.stringify(task.result?.data ?? null, null, 2));
        const extension = EXTENSIONS[(contentType ?? 'application/json').split(';')[0] ?? ''] ?? 'bin';
        const path = join(options.outDir, `${item.line}-${task.type}.${extension}`);
        await writeFile(path, data);
        result.savedTo = path;
      }
      return result;
    } catch (error) {
      if (!(error instanceof BrowserfleetApiError)) throw error;
      return { line: item.line, status: 'refused', error: { code: error.code, message: error.message } };
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      const item = items[at];
      if (item === undefined) return;
      const result = await runOne(item, keys[at] as string);
      results.push(result);
      if (result.status === 'succeeded') counts.ok++;
      else counts.failed++;
      if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (showBar) bar.increment(1, counts);
      else
        process.stderr.write(
          `line ${result.line}: ${result.status}${result.taskId === undefined ? '' : ` ${result.taskId}`}\n`,
        );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));
  } finally {
    // Also when a write of this machine fails mid-batch: the terminal gets its cursor back.
    if (showBar) bar.stop();
  }

  if (!options.json) {
    results.sort((a, b) => a.line - b.line);
    const byStatus = new Map<string, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    process.stdout.write(
      `${table([['STATUS', 'TASKS'], ...[...byStatus].map(([s, n]) => [s, String(n)])])}\n`,
    );
    const failures = results.filter((r) => r.status !== 'succeeded');
    if (failures.length > 0) {
      process.stdout.write(
        `\n${table([
          ['LINE', 'STATUS', 'ERROR'],
          ...failures.map((r) => [
            String(r.line),
            r.status,
            r.error === undefined ? '' : `${r.error.code}: ${r.error.message}`,
          ]),
        ])}\n`,
      );
    }
  }
  return { total: items.length, succeeded: counts.ok, failed: counts.failed };
};
