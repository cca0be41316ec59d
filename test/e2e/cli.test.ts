/**
 * The `browserfleet` CLI driven as a process against the local cloud (real gateway,
 * handlers, worker and Chromium): one-shot commands, `--json`, tasks and sessions, the
 * batch runner with its progress bar on a real pseudo-terminal (util-linux `script`), and
 * the exit codes scripts rely on. The batch tests hold their pages (a gated fixture site) to
 * act mid-run: kill a batch and resume it, watch the bar redraw while tasks are running.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type TaskView } from '../../ops/client/index.js';
import { BIN, type Ran, runCli } from '../support/cli-process.js';
import { type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { type GatedSite, startGatedSite } from '../support/gated-site.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: FixtureServer;
let key: string;
let dir: string;

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html><head><title>Fixture</title></head><body><h1>Hello from the fixture</h1><a href="/two">two</a></body></html>',
    '/two': '<html><body><h1>Two</h1></body></html>',
  });
  cloud = await startTestCloud();
  key = (await createTestTenant(cloud, 'cli-tenant')).key;
  dir = mkdtempSync(join(tmpdir(), 'bf-cli-'));
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
  runCli(args, { BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: key, ...env });

describe('one-shot commands', () => {
  it('screenshot -o writes the PNG; markdown prints to stdout; --json prints the task', async () => {
    const png = join(dir, 'shot.png');
    const shot = await cli(['screenshot', `${site.url}/`, '-o', png, '--viewport', '400x300']);
    expect(shot).toMatchObject({ code: 0 });
    expect(shot.stdout).toMatch(/shot\.png \(\d+ bytes\) from task /);
    expect(pngSize(readFileSync(png))).toEqual({ width: 400, height: 300 });

    const markdown = await cli(['markdown', `${site.url}/`]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain('Hello from the fixture');

    const links = await cli(['--json', 'links', `${site.url}/`]);
    expect(links.code).toBe(0);
    const task = JSON.parse(links.stdout);
    expect(task).toMatchObject({ type: 'links', status: 'succeeded' });

    const got = await cli(['--json', 'tasks', 'get', task.id]);
    expect(JSON.parse(got.stdout).id).toBe(task.id);
    const human = await cli(['tasks', 'get', task.id]);
    expect(human.stdout).toMatch(/^id\s+\S+\ntype\s+links\nstatus\s+succeeded/m);
  });

  it('--tier, --max-attempts and --webhook set the task fields of the same names', async () => {
    const fleet = await cli(['--json', 'content', `${site.url}/`, '--tier', 'fleet', '--max-attempts', '1']);
    expect(fleet.code).toBe(0);
    expect(JSON.parse(fleet.stdout)).toMatchObject({ tier: 'fleet', maxAttempts: 1, status: 'succeeded' });
    // The webhook URL goes through the egress guard at submit, as the API's own field does.
    const hooked = await cli(['content', `${site.url}/`, '--webhook', 'http://169.254.169.254/hook']);
    expect(hooked.code).toBe(3);
    expect(hooked.stderr).toMatch(/DESTINATION_BLOCKED: webhook\.url: /);
  });

  it('exit codes: 1 a task failed, 2 a wrong command line, 3 the API refused, 4 a local file', async () => {
    // A page answering 404 with failOnHttpStatus fails the task: exit 1.
    const notThere = await cli(['content', `${site.url}/nothing`, '-O', 'failOnHttpStatus=[404]']);
    expect(notThere.code).toBe(1);
    expect(notThere.stderr).toMatch(/failed: HTTP_STATUS_FAILED: /);

    expect((await cli(['screenshot'])).code).toBe(2);
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['screenshot', `${site.url}/`, '--viewport', 'big'])).code).toBe(2);

    const blocked = await cli(['screenshot', 'http://169.254.169.254/']);
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toMatch(/DESTINATION_BLOCKED: /);
    const wrongKey = await cli(['tasks', 'get', '01NOTATASK0000000000000000'], {
      BROWSERFLEET_API_KEY: 'bf_wrong_0000000000000',
    });
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toMatch(/UNAUTHORIZED/);

    // 4: this machine refused — an -o that can't be written, a batch file that isn't there.
    const unwritable = await cli(['screenshot', `${site.url}/`, '-o', join(dir, 'no-such-dir', 'x.png')]);
    expect(unwritable.code).toBe(4);
    expect(unwritable.stderr).toMatch(/^browserfleet: ENOENT: /m);
    const noFile = await cli(['run', join(dir, 'missing.jsonl')]);
    expect(noFile.code).toBe(4);
    expect(noFile.stderr).toMatch(/ENOENT/);
  });

  it('--help on every command', async () => {
    for (const args of [
      [],
      ...['screenshot', 'pdf', 'content', 'markdown', 'scrape', 'links'].map((c) => [c]),
      ['run'],
      ['tasks'],
      ...['list', 'get', 'cancel'].map((c) => ['tasks', c]),
      ['sessions'],
      ...['create', 'list', 'close', 'live'].map((c) => ['sessions', c]),
      ['mcp'],
    ]) {
      const help = await cli([...args, '--help']);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/^Usage: browserfleet/);
    }
    // admin and its commands: test/e2e/cli-admin.test.ts.
  });
});

/** A stream's text so far, and a wait for it to say something. */
const watch = (stream: Readable) => {
  let text = '';
  let ended = false;
  const waiters = new Set<() => void>();
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    for (const wake of waiters) wake();
  });
  stream.on('end', () => {
    ended = true;
    for (const wake of waiters) wake();
  });
  return {
    text: () => text,
    until: (test: (text: string) => boolean, what: string, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          waiters.delete(wake);
          clearTimeout(timer);
          if (error === undefined) resolve();
          else reject(error);
        };
        const wake = () => {
          if (test(text)) done();
          else if (ended) done(new Error(`output ended before ${what}:\n${text}`));
        };
        const timer = setTimeout(
          () => done(new Error(`no ${what} after ${timeoutMs} ms:\n${text}`)),
          timeoutMs,
        );
        waiters.add(wake);
        wake();
      }),
  };
};

interface Launched {
  child: ChildProcessWithoutNullStreams;
  stdout: ReturnType<typeof watch>;
  stderr: ReturnType<typeof watch>;
  exit: Promise<number>;
}
/** The CLI as a running process (or `script` running it on a pseudo-terminal). */
const launch = (command: string, args: string[]): Launched => {
  const child = spawn(command, args, {
    env: { ...process.env, BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: key },
  });
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, stdout: watch(child.stdout), stderr: watch(child.stderr), exit };
};
/** `script` gives the CLI a real pseudo-terminal; its stdout is the terminal's output. */
const onTerminal = (args: string[], redirect = ''): Launched =>
  launch('script', [
    '-qec',
    `${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')}${redirect}`,
    '/dev/null',
  ]);

/** A batch file of these lines. */
const batchFile = (name: string, lines: unknown[]): string => {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
  return file;
};

/** Every task of the test tenant on the gated site, by URL (tasks sent at once may list in either order). */
const tasksOn = async (gate: GatedSite): Promise<TaskView[]> => {
  const client = createClient({ baseUrl: cloud.url, apiKey: key });
  const tasks: TaskView[] = [];
  for await (const task of client.tasks.listAll()) if (task.url.startsWith(gate.url)) tasks.push(task);
  return tasks.sort((x, y) => x.url.localeCompare(y.url));
};

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('sessions', () => {
  it('create, live, list and close', async () => {
    const created = JSON.parse(
      (await cli(['--json', 'sessions', 'create', '--idle-timeout-ms', '60000'])).stdout,
    );
    expect(created.status).toBe('pending');
    const live = await cli(['sessions', 'live', created.id]);
    expect(live.stdout.trim()).toMatch(new RegExp(`/v1/sessions/${created.id}/live\\?ticket=`));
    const listed = await cli(['sessions', 'list']);
    expect(listed.stdout).toContain(created.id);
    const closed = JSON.parse((await cli(['--json', 'sessions', 'close', created.id])).stdout);
    expect(closed.status).toBe('closed');
    expect((await cli(['sessions', 'live', created.id])).code).toBe(1);
  });
});

describe('browserfleet run', () => {
  const jsonl = () => {
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ type: 'content', url: `${site.url}/` }),
        JSON.stringify({ type: 'markdown', url: `${site.url}/two` }),
        '# a comment',
        JSON.stringify({
          type: 'screenshot',
          url: `${site.url}/`,
          options: { viewport: { width: 320, height: 200 } },
        }),
        JSON.stringify({
          type: 'content',
          url: `${site.url}/nothing`,
          options: { failOnHttpStatus: [404] },
          maxAttempts: 1,
        }),
        JSON.stringify({ type: 'screenshot', url: 'http://10.0.0.1/' }),
      ].join('\n'),
    );
    return file;
  };

  let gate: GatedSite;
  let running: Launched | undefined;
  beforeEach(async () => {
    gate = await startGatedSite();
  });
  afterEach(async () => {
    // A test that failed mid-run leaves no batch waiting on a held page.
    gate.open();
    if (running !== undefined && running.child.exitCode === null && running.child.signalCode === null)
      await running.exit;
    running = undefined;
    await gate.close();
  });

  it('--json: one line per task; a second run of the finished file answers the same tasks', async () => {
    const file = jsonl();
    const first = await cli(['--json', 'run', file, '-c', '3', '--out-dir', join(dir, 'out')]);
    expect(first.code).toBe(1);
    const byLine = Object.fromEntries(jsonLines(first.stdout).map((l) => [l.line, l]));
    expect(Object.keys(byLine).sort()).toEqual(['1', '2', '4', '5', '6']);
    expect(byLine[1]).toMatchObject({ status: 'succeeded' });
    expect(byLine[4].savedTo).toMatch(/4-screenshot\.png$/);
    expect(pngSize(readFileSync(byLine[4].savedTo))).toEqual({ width: 320, height: 200 });
    expect(byLine[5]).toMatchObject({ status: 'failed', error: { code: 'HTTP_STATUS_FAILED' } });
    expect(byLine[6]).toMatchObject({ status: 'refused', error: { code: 'DESTINATION_BLOCKED' } });

    // The same lines carry the same Idempotency-Keys: failed tasks are answered, not rerun.
    const again = await cli(['--json', 'run', file]);
    const second = Object.fromEntries(jsonLines(again.stdout).map((l) => [l.line, l]));
    for (const line of [1, 2, 4, 5]) expect(second[line].taskId).toBe(byLine[line].taskId);
  });

  it('resumes: a run killed mid-batch, run again with a line added, runs every line once', async () => {
    // Line 6 repeats line 1: two identical lines are two tasks, so /a is loaded twice.
    const paths = ['/a', '/b', '/c', '/d', '/e', '/a'];
    const file = batchFile(
      'resume.jsonl',
      paths.map((path) => ({ type: 'content', url: `${gate.url}${path}`, maxAttempts: 1 })),
    );
    const first = launch(process.execPath, [BIN, '--json', 'run', file, '-c', '2']);
    running = first;
    // Two tasks in flight (the concurrency), the others not sent yet.
    await gate.waitForHits('/a');
    await gate.waitForHits('/b');
    expect(gate.hits('/c')).toBe(0);
    gate.release('/a');
    await first.stdout.until((text) => text.includes('\n'), 'the result of line 1');
    await gate.waitForHits('/c');
    // Now line 1 has ended, lines 2 and 3 are running, lines 4 to 6 were never sent.
    first.child.kill('SIGKILL');
    await first.exit;
    const [ended] = jsonLines(first.stdout.text());
    expect(ended).toMatchObject({ line: 1, status: 'succeeded' });
    const atKill = await tasksOn(gate);
    expect(atKill.map((t) => t.url)).toEqual(['/a', '/b', '/c'].map((p) => `${gate.url}${p}`));
    expect(atKill.map((t) => t.status)).toEqual(['succeeded', 'running', 'running']);

    // A line goes in above the others before the file runs again: their keys don't move.
    const all = ['/z', ...paths];
    writeFileSync(
      file,
      [
        JSON.stringify({ type: 'content', url: `${gate.url}/z`, maxAttempts: 1 }),
        readFileSync(file, 'utf8'),
      ].join('\n'),
    );
    gate.open();
    const again = await cli(['--json', 'run', file, '-c', '2']);
    expect(again.code, again.stderr).toBe(0);
    const results = jsonLines(again.stdout).sort((x, y) => x.line - y.line);
    expect(results.map((r) => [r.line, r.status])).toEqual(all.map((_, i) => [i + 1, 'succeeded']));
    // The resumed run reattached to the three tasks the killed one had sent (now lines 2–4).
    expect(results.slice(1, 4).map((r) => r.taskId)).toEqual(atKill.map((t) => t.id));

    // Exactly once: one task per line, one attempt per task, one page load per attempt.
    const after = await tasksOn(gate);
    expect(after.map((t) => t.id).sort()).toEqual(results.map((r) => r.taskId).sort());
    expect(after.map((t) => t.attempts)).toEqual(all.map(() => 1));
    expect(['/z', '/a', '/b', '/c', '/d', '/e'].map((p) => [p, gate.hits(p)])).toEqual([
      ['/z', 1],
      ['/a', 2],
      ['/b', 1],
      ['/c', 1],
      ['/d', 1],
      ['/e', 1],
    ]);
  });

  it('on a terminal: the bar is drawn while tasks run and redrawn as each ends, then a summary', async () => {
    const paths = ['/t1', '/t2', '/t3', '/t4'];
    const file = batchFile('terminal.jsonl', [
      ...paths.map((path) => ({ type: 'content', url: `${gate.url}${path}` })),
      { type: 'content', url: `${site.url}/nothing`, options: { failOnHttpStatus: [404] }, maxAttempts: 1 },
    ]);
    const tty = onTerminal(['run', file, '-c', '2']);
    running = tty;
    const bar = (done: number, ok: number, failed: number) =>
      new RegExp(`tasks [█░]+ ${done}/5 \\| ok ${ok} \\| failed ${failed} \\|`);
    const frame = (done: number, ok: number, failed: number) =>
      tty.stdout.until((text) => bar(done, ok, failed).test(text), `a bar at ${done}/5, ok ${ok}`);
    await gate.waitForHits('/t1');
    await gate.waitForHits('/t2');
    await frame(0, 0, 0);
    // Mid-run: two tasks held in the browser, three not sent, the bar drawn at 0/5.
    expect(gate.hits('/t3')).toBe(0);
    gate.release('/t1');
    await frame(1, 1, 0);
    gate.release('/t2');
    await frame(2, 2, 0);
    // Line 5 goes in once /t3 ends, and fails on its own; /t4 is still held.
    gate.release('/t3');
    await frame(4, 3, 1);
    expect(tty.child.exitCode).toBeNull();
    gate.release('/t4');
    await frame(5, 4, 1);
    expect(await tty.exit).toBe(1);
    const out = tty.stdout.text();
    // Frames in order: the done count never goes back, from 0 to 5.
    const frames = [...out.matchAll(/tasks [█░]+ (\d)\/5/g)].map((m) => Number(m[1]));
    expect(frames).toEqual([...frames].sort());
    expect([frames[0], frames.at(-1)]).toEqual([0, 5]);
    // Redrawn in place: each frame goes back to column 1 of the same line and clears what's
    // left of the last one; the cursor is hidden while the bar is up and shown after.
    const drawn = out.slice(0, out.indexOf('\u001b[?25h'));
    expect(drawn.startsWith('\u001b7\u001b[?25l')).toBe(true);
    expect(drawn).not.toContain('\n');
    expect(drawn.split('\u001b[1Gtasks ').length - 1).toBe(frames.length);
    expect(out.indexOf('\u001b[?25h')).toBeLessThan(out.indexOf('STATUS'));
    expect(out).toMatch(/STATUS\s+TASKS\r?\nsucceeded\s+4\r?\nfailed\s+1/);
    expect(out).toMatch(/LINE\s+STATUS\s+ERROR\r?\n5\s+failed\s+HTTP_STATUS_FAILED/);
  });

  it('--json on a terminal: stderr gets no bar and no escape codes; stdout is JSON lines', async () => {
    const paths = ['/j1', '/j2', '/j3'];
    const file = batchFile(
      'json-terminal.jsonl',
      paths.map((path) => ({ type: 'content', url: `${gate.url}${path}` })),
    );
    const out = join(dir, 'json-terminal.out');
    // stderr is the terminal (where a bar would go); stdout goes to a file.
    const tty = onTerminal(['--json', 'run', file, '-c', '2'], ` > '${out}'`);
    running = tty;
    await gate.waitForHits('/j1');
    await gate.waitForHits('/j2');
    gate.release('/j1');
    await gate.waitForHits('/j3');
    // Mid-run (line 1 ended, lines 2 and 3 running): the terminal has had nothing.
    expect(tty.stdout.text()).toBe('');
    gate.open();
    expect(await tty.exit).toBe(0);
    expect(tty.stdout.text()).toBe('');
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const results = lines.map((l) => JSON.parse(l));
    expect(results[0]).toMatchObject({ line: 1, status: 'succeeded' });
    expect(results.map((r) => r.line).sort()).toEqual([1, 2, 3]);
    expect(results.every((r) => r.status === 'succeeded' && typeof r.taskId === 'string')).toBe(true);
  });
});
