/**
 * The `browserfleet` CLI driven as a process against the local cloud (real gateway,
 * handlers, worker and Chromium): one-shot commands, `--json`, tasks and sessions, the
 * batch runner with its progress bar on a real pseudo-terminal (util-linux `script`), and
 * the exit codes scripts rely on.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

const BIN = join(import.meta.dirname, '../../ops/bin/browserfleet.mjs');
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

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
const cli = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...process.env, BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: key, ...env },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'buffer',
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout: stdout.toString('utf8'),
          stderr: stderr.toString('utf8'),
        }),
    );
  });

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
    // admin passes its arguments on to the operator's CLI, which answers --help anywhere.
    for (const args of [['admin'], ['admin', 'webhook', 'add']]) {
      const help = await cli([...args, '--help']);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/webhook rotate-secret <tenant>/);
    }
  });
});

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

  it('--json: one line per task; a second run of the same file answers the same tasks', async () => {
    const file = jsonl();
    const first = await cli(['--json', 'run', file, '-c', '3', '--out-dir', join(dir, 'out')]);
    expect(first.code).toBe(1);
    const lines = first.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byLine = Object.fromEntries(lines.map((l) => [l.line, l]));
    expect(Object.keys(byLine).sort()).toEqual(['1', '2', '4', '5', '6']);
    expect(byLine[1]).toMatchObject({ status: 'succeeded' });
    expect(byLine[4].savedTo).toMatch(/4-screenshot\.png$/);
    expect(pngSize(readFileSync(byLine[4].savedTo))).toEqual({ width: 320, height: 200 });
    expect(byLine[5]).toMatchObject({ status: 'failed', error: { code: 'HTTP_STATUS_FAILED' } });
    expect(byLine[6]).toMatchObject({ status: 'refused', error: { code: 'DESTINATION_BLOCKED' } });

    // Resumable: the same lines carry the same Idempotency-Keys, so nothing runs twice.
    const again = await cli(['--json', 'run', file]);
    const second = Object.fromEntries(
      again.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((l) => [l.line, l]),
    );
    for (const line of [1, 2, 4, 5]) expect(second[line].taskId).toBe(byLine[line].taskId);
  });

  it('on a terminal: a progress bar on stderr, then a summary table', async () => {
    const file = jsonl();
    const command = [process.execPath, BIN, 'run', file].map((a) => `'${a}'`).join(' ');
    // `script` gives the CLI a real pseudo-terminal; its output is the terminal's.
    const ran = await new Promise<Ran>((resolve) => {
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { env: { ...process.env, BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: key }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : Number(error.code),
            stdout: String(stdout),
            stderr: String(stderr),
          }),
      );
    });
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/tasks [█░]+ 5\/5 \| ok 3 \| failed 2/);
    expect(ran.stdout).toMatch(/STATUS\s+TASKS\r?\nsucceeded\s+3/);
    expect(ran.stdout).toMatch(/LINE\s+STATUS\s+ERROR\r?\n5\s+failed\s+HTTP_STATUS_FAILED/);
  });
});
