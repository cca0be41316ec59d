/**
 * `browserfleet`, the package's command line (bin: ops/bin/browserfleet.mjs), a user of the
 * public API through the typed client (ops/client/). `browserfleet --help` lists the
 * commands; every command has its own `--help`.
 *
 * Reads BROWSERFLEET_URL (default http://127.0.0.1:3000, `npm start`'s) and
 * BROWSERFLEET_API_KEY, or `--url` and `--key`. Human output by default, `--json` for
 * scripts. Exit codes: 0 done; 1 a task (or a batch item) failed or was cancelled; 2 the
 * command line was wrong; 3 the API refused the request or could not be reached; 4 this
 * machine refused a file. `browserfleet admin …` (ops/cli/admin.ts) is the operator's, on
 * the state table itself, with the same codes.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addAdminCommands } from './cli/admin.js';
import { runBatch } from './cli/batch.js';
import {
  EXIT,
  isLocalError,
  type Output,
  optionsFrom,
  outputFor,
  UsageError,
  viewport,
} from './cli/output.js';
import {
  BrowserfleetApiError,
  type BrowserfleetClient,
  createClient,
  type TaskListQuery,
  type TaskRequest,
} from './client/index.js';
import { runMcpBridge } from './mcp-bridge.js';

const ONE_SHOT = {
  screenshot: { file: (format: string) => `screenshot.${format}`, binary: true },
  pdf: { file: () => 'page.pdf', binary: true },
  markdown: { file: () => 'page.md', binary: false },
  content: { file: () => 'page.html', binary: false },
  scrape: { file: () => 'scrape.json', binary: false },
  links: { file: () => 'links.json', binary: false },
} as const;

const collect = (value: string, previous: string[]) => [...previous, value];
const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number.`);
  return n;
};

const program = new Command('browserfleet')
  .description('Browser tasks, live sessions and agents on a browserfleet platform.')
  .addOption(
    new Option('--url <url>', 'the platform API').env('BROWSERFLEET_URL').default('http://127.0.0.1:3000'),
  )
  .addOption(new Option('--key <key>', 'the API key').env('BROWSERFLEET_API_KEY'))
  .option('--json', 'print JSON (one document, or one line per item) for scripts')
  .showHelpAfterError()
  // Set before the commands are made: each command copies it.
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

const globals = () => program.opts<{ url: string; key?: string; json?: boolean }>();
const clientOf = (): BrowserfleetClient => {
  const { url, key } = globals();
  if (key === undefined || key === '') {
    process.stderr.write('browserfleet: set BROWSERFLEET_API_KEY or pass --key.\n');
    process.exit(EXIT.usage);
  }
  return createClient({ baseUrl: url, apiKey: key });
};
const out = (): Output => outputFor(globals().json === true);

for (const [type, spec] of Object.entries(ONE_SHOT)) {
  const command = program
    .command(`${type} <url>`)
    .description(`run a ${type} task of a URL and save or print its result`)
    .option(
      '-o, --output <file>',
      'where to write the result (default: a file for screenshot and pdf, stdout else)',
    )
    .option('--viewport <WxH>', 'viewport size, e.g. 1280x720', viewport)
    .option('--wait-until <event>', 'load, domcontentloaded, networkidle0 or networkidle2')
    .option('--timeout-ms <ms>', 'the task deadline', int('--timeout-ms'))
    .option(
      '--cache-ttl <seconds>',
      'answer from a cached result up to this old (0: off)',
      int('--cache-ttl'),
    )
    .option('--webhook <url>', "POST the task's end here, signed (see the README's Webhooks)")
    .option('--tier <tier>', 'where it runs: lambda, fleet or auto (the default: by the expected run time)')
    .option('--max-attempts <n>', 'attempts before the task fails', int('--max-attempts'))
    .option(
      '-O, --option <key=value>',
      'any task option (dotted keys nest; values are JSON when they parse)',
      collect,
      [],
    );
  if (type === 'screenshot') {
    command
      .option('--full-page', 'the whole page, not just the viewport')
      .option('--format <format>', 'png, jpeg or webp');
  }
  if (type === 'scrape') {
    command.option('-e, --element <name=selector>', 'an element to read (repeat for more)', collect, []);
  }
  command.action(async (url: string, flags: Record<string, unknown>) => {
    const request = {
      type,
      url,
      options: optionsFrom(type, flags),
      ...(flags.cacheTtl === undefined ? {} : { cacheTTL: flags.cacheTtl }),
      ...(flags.webhook === undefined ? {} : { webhook: { url: flags.webhook } }),
      ...(flags.tier === undefined ? {} : { tier: flags.tier }),
      ...(flags.maxAttempts === undefined ? {} : { maxAttempts: flags.maxAttempts }),
    } as TaskRequest;
    const { task, body } = await clientOf().tasks.run(request);
    const o = out();
    if (task.status !== 'succeeded') {
      o.failed(task);
      process.exitCode = EXIT.failed;
      return;
    }
    const format = typeof flags.format === 'string' ? flags.format : 'png';
    const file =
      typeof flags.output === 'string' ? flags.output : spec.binary ? spec.file(format) : undefined;
    const bytes = body ?? new TextEncoder().encode(JSON.stringify(task.result?.data ?? null, null, 2));
    if (file !== undefined) {
      await writeFile(file, bytes);
      o.saved(task, file, bytes.length);
    } else if (globals().json === true) {
      o.task(task);
    } else {
      process.stdout.write(bytes);
      if (bytes[bytes.length - 1] !== 0x0a) process.stdout.write('\n');
      // stdout is the result itself: where it came from goes to stderr.
      o.note(task);
    }
  });
}

program
  .command('run <file>')
  .description('run the tasks of a JSON Lines file (one task body per line), with a progress bar')
  .option('-c, --concurrency <n>', 'tasks in flight at once', int('--concurrency'), 4)
  .option('--out-dir <dir>', 'save each result here (<line>-<type>.<ext>)')
  .action(async (file: string, flags: { concurrency: number; outDir?: string }) => {
    const summary = await runBatch(clientOf(), {
      file,
      concurrency: Math.max(1, flags.concurrency),
      ...(flags.outDir === undefined ? {} : { outDir: flags.outDir }),
      json: globals().json === true,
    });
    if (summary.failed > 0) process.exitCode = EXIT.failed;
  });

const tasks = program.command('tasks').description('your tasks: list, get, cancel');
tasks
  .command('list')
  .description('your tasks, newest first, a page at a time (or --all)')
  .option('--status <status>', 'queued, running, succeeded, failed or cancelled')
  .option('--type <type>', 'screenshot, pdf, content, markdown, scrape, links or evaluate')
  .option('--since <time>', 'created at or after this ISO 8601 time, e.g. 2026-12-01T00:00:00Z')
  .option('--limit <n>', 'tasks per page (1–100, default 20)', int('--limit'))
  .option('--cursor <cursor>', 'the page after the one that printed this cursor')
  .option('--all', 'every page, one after another')
  .action(
    async (flags: {
      status?: TaskListQuery['status'];
      type?: TaskListQuery['type'];
      since?: string;
      limit?: number;
      cursor?: string;
      all?: boolean;
    }) => {
      const { all, ...query } = flags;
      const client = clientOf();
      const o = out();
      if (all !== true) {
        o.taskPage(await client.tasks.list(query));
        return;
      }
      let cursor = query.cursor;
      let first = true;
      let count = 0;
      do {
        const page = await client.tasks.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
        o.taskRows(page.tasks, first);
        // The header goes above the first row, whichever page it is on.
        if (page.tasks.length > 0) first = false;
        count += page.tasks.length;
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      if (count === 0 && globals().json !== true) o.line('No tasks.', {});
    },
  );
tasks
  .command('get <id>')
  .description('one task')
  .option('--wait <seconds>', 'hold up to this long for it to end (≤ 25)', int('--wait'))
  .action(async (id: string, flags: { wait?: number }) => {
    out().task(await clientOf().tasks.get(id, flags.wait === undefined ? {} : { waitSeconds: flags.wait }));
  });
tasks
  .command('cancel <id>')
  .description('cancel a queued or running task')
  .action(async (id: string) => out().task(await clientOf().tasks.cancel(id)));

const sessions = program.command('sessions').description('live sessions: create, list, close, live');
sessions
  .command('create')
  .description('start a live browser session')
  .option('--timeout-ms <ms>', 'its absolute lifetime', int('--timeout-ms'))
  .option(
    '--idle-timeout-ms <ms>',
    'ended after this long without a command or client',
    int('--idle-timeout-ms'),
  )
  .option('--viewport <WxH>', 'viewport size, e.g. 1280x720', viewport)
  .action(
    async (flags: {
      timeoutMs?: number;
      idleTimeoutMs?: number;
      viewport?: { width: number; height: number };
    }) => {
      out().session(
        await clientOf().sessions.create({
          ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }),
          ...(flags.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: flags.idleTimeoutMs }),
          ...(flags.viewport === undefined ? {} : { viewport: flags.viewport }),
        }),
      );
    },
  );
sessions
  .command('list')
  .description('your sessions, newest first')
  .option('--status <status>', 'pending, starting, live, closed or failed')
  .option('--limit <n>', 'at most this many (1–100)', int('--limit'))
  .action(async (flags: { status?: 'live'; limit?: number }) =>
    out().sessionList(await clientOf().sessions.list(flags)),
  );
sessions
  .command('close <id>')
  .description('close a session and its browser')
  .action(async (id: string) => out().session(await clientOf().sessions.close(id)));
sessions
  .command('live <id>')
  .description("print a session's live-view URL (a page a person can watch and take over with)")
  .option('--open', 'open it in the default browser')
  .action(async (id: string, flags: { open?: boolean }) => {
    const session = await clientOf().sessions.get(id);
    if (session.liveViewUrl === undefined) {
      process.stderr.write(`browserfleet: session ${id} is ${session.status}: it has no live view.\n`);
      process.exitCode = EXIT.failed;
      return;
    }
    out().line(session.liveViewUrl, { liveViewUrl: session.liveViewUrl });
    if (flags.open === true) {
      const { spawn } = await import('node:child_process');
      const opener =
        process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open';
      spawn(opener, [session.liveViewUrl], { stdio: 'ignore', detached: true })
        .on('error', () => {})
        .unref();
    }
  });

addAdminCommands(program, () => globals().json === true);

program
  .command('mcp')
  .description("bridge stdio to the platform's /mcp, for desktop MCP clients")
  .action(async () => {
    const { url, key } = globals();
    if (key === undefined || key === '') {
      process.stderr.write('browserfleet: set BROWSERFLEET_API_KEY or pass --key.\n');
      process.exit(EXIT.usage);
    }
    // stdout carries the protocol: everything else goes to stderr.
    await runMcpBridge({
      baseUrl: url,
      apiKey: key,
      log: (line) => process.stderr.write(`browserfleet mcp: ${line}\n`),
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`browserfleet: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  } else if (error instanceof BrowserfleetApiError) {
    out().error(error);
    process.exitCode = EXIT.api;
  } else if (isLocalError(error)) {
    process.stderr.write(`browserfleet: ${error.message}\n`);
    process.exitCode = EXIT.local;
  } else if ((error as { code?: string }).code?.startsWith('commander.')) {
    const code = (error as { code: string; exitCode: number }).code;
    process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : EXIT.usage;
  } else {
    throw error;
  }
}
