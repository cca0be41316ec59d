/**
 * `browserfleet admin …`, the operator's commands, driven as a process (the package's bin)
 * against the local cloud's state table: human output and `--json`, the keys it mints
 * working (and stopping) over the real API, `npm run admin -- …` as the same program, and
 * the exit codes scripts rely on (2 a wrong command line, 3 a refusal of the platform's,
 * 1 a usage check that found a difference).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminEnv, type Ran, runCli } from '../support/cli-process.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';

const ROOT = join(import.meta.dirname, '../..');
let cloud: Awaited<ReturnType<typeof startTestCloud>>;

beforeAll(async () => {
  // The admin commands talk to the table, and the keys are tried on the API: no browser needed.
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false, webhooks: false });
});
afterAll(async () => {
  await cloud?.dispose();
});

const admin = (...args: string[]): Promise<Ran> => runCli(['admin', ...args], adminEnv(cloud));
const adminJson = async (...args: string[]) => {
  const ran = await admin('--json', ...args);
  expect(ran.code, ran.stderr).toBe(0);
  return JSON.parse(ran.stdout);
};
/** The public API's CLI with `key`: exit 0 when the key authenticates, 3 UNAUTHORIZED when not. */
const withKey = (key: string) =>
  runCli(['tasks', 'list'], { BROWSERFLEET_URL: cloud.url, BROWSERFLEET_API_KEY: key });

describe('tenants and keys', () => {
  it('tenant create, limits and show: a table for a person, the tenant for a script', async () => {
    const created = await admin(
      'tenant',
      'create',
      'acme',
      '--name',
      'Acme Co',
      '--rps',
      '20',
      '--burst',
      '40',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /^tenant\s+acme\nname\s+Acme Co\ncreated\s+\S+\nrequests\/s\s+20\nburst\s+40\n/,
    );

    const limited = await adminJson('tenant', 'limits', 'acme', '--max-running', '3');
    // The flags given change; the rest stay as they were.
    expect(limited).toMatchObject({
      tenantId: 'acme',
      name: 'Acme Co',
      limits: { requestsPerSecond: 20, burst: 40, maxRunningTasks: 3 },
    });
    expect(await adminJson('tenant', 'show', 'acme')).toEqual(limited);
    const shown = await admin('tenant', 'show', 'acme');
    expect(shown.stdout).toMatch(/^max running\s+3$/m);
    expect(shown.stdout).toMatch(/^secrets\s+\(none\)$/m);
  });

  it('key create, list, rotate and revoke: the key works over the API until it is revoked', async () => {
    const minted = await admin('key', 'create', 'acme', '--name', 'laptop');
    expect(minted.code, minted.stderr).toBe(0);
    const key = /^key\s+(bf_\S+)$/m.exec(minted.stdout)?.[1] as string;
    expect(key).toMatch(/^bf_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
    const prefix = key.slice(0, 11);
    expect(minted.stdout).toMatch(new RegExp(`^prefix\\s+${prefix}\\ntenant\\s+acme\\nname\\s+laptop$`, 'm'));
    expect(minted.stdout).toContain('Shown once: store it now.');
    expect((await withKey(key)).code).toBe(0);
    // The limits the CLI set are the ones the API holds the key's tenant to.
    const limits = await apiClient(cloud.url, key).call('GET', '/v1/limits');
    expect(limits.body).toMatchObject({ tenantId: 'acme', limits: { burst: 40, maxRunningTasks: 3 } });

    const listed = await admin('key', 'list', 'acme');
    expect(listed.stdout).toMatch(
      new RegExp(`^PREFIX\\s+NAME\\s+CREATED\\s+REVOKED\\n${prefix}\\s+laptop\\s+\\S+\\s+-$`, 'm'),
    );
    const listedJson = await adminJson('key', 'list', 'acme');
    expect(listedJson).toEqual([expect.objectContaining({ prefix, name: 'laptop', tenantId: 'acme' })]);
    // Neither the key nor its hash is ever listed.
    expect(Object.keys(listedJson[0]).sort()).toEqual(['createdAt', 'name', 'prefix', 'tenantId']);
    expect(listed.stdout + JSON.stringify(listedJson)).not.toContain(key.slice(12));

    const rotated = await adminJson('key', 'rotate', 'acme', prefix);
    expect(rotated).toMatchObject({ key: expect.stringMatching(/^bf_/), revoked: prefix });
    const refused = await withKey(key);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/UNAUTHORIZED/);
    expect((await withKey(rotated.key)).code).toBe(0);

    const revoked = await admin('key', 'revoke', 'acme', rotated.prefix);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked ${rotated.prefix} of tenant acme.\n` });
    expect((await withKey(rotated.key)).code).toBe(3);
    const keys = await adminJson('key', 'list', 'acme');
    expect(keys.map((k: { revokedAt?: string }) => typeof k.revokedAt)).toEqual(['string', 'string']);
  });
});

describe('webhooks', () => {
  it('add (with the first secret), list, rotate-secret and remove; a secret is printed once and never listed', async () => {
    await adminJson('tenant', 'create', 'hooked');
    const none = await admin('webhook', 'list', 'hooked');
    expect(none.stdout).toMatch(/^No endpoints\.\n\nNo signing secret: /);

    const added = await admin(
      'webhook',
      'add',
      'hooked',
      'http://127.0.0.1:9/hook',
      '--events',
      'task.failed, session.ended',
    );
    expect(added.code, added.stderr).toBe(0);
    const id = /^id\s+(ep_\S+)$/m.exec(added.stdout)?.[1] as string;
    expect(added.stdout).toMatch(/^events\s+task\.failed,session\.ended$/m);
    // The tenant had no signing secret: the endpoint came with its first, printed once.
    const first = /^secret\s+(whsec_\S+)$/m.exec(added.stdout)?.[1] as string;
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(added.stdout).toMatch(/Shown once: store it now\.\n$/);
    // With a secret, another endpoint brings none.
    const another = await adminJson('webhook', 'add', 'hooked', 'http://127.0.0.1:9/other');
    expect(another).toEqual({
      id: expect.stringMatching(/^ep_/),
      url: 'http://127.0.0.1:9/other',
      events: expect.any(Array),
      createdAt: expect.any(String),
    });
    expect(await adminJson('webhook', 'remove', 'hooked', another.id)).toEqual({ removed: another.id });

    const rotated = await admin('webhook', 'rotate-secret', 'hooked');
    const secret = /^secret\s+(whsec_\S+)$/m.exec(rotated.stdout)?.[1] as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(rotated.stdout).toMatch(
      /^signing\s+created \S+, retires \S+Z\nsigning\s+created \S+, retires \(current\)$/m,
    );
    const second = await adminJson('webhook', 'rotate-secret', 'hooked', '--overlap-hours', '2');
    expect(second.secret).toMatch(/^whsec_/);
    // The secrets before keep signing for the overlap: two hours after the second was made
    // (the first's day of overlap is cut to it, never extended).
    const overlapEnd = new Date(Date.parse(second.createdAt) + 2 * 3_600_000).toISOString();
    expect(second.signing).toEqual([
      { createdAt: expect.any(String), retiresAt: overlapEnd },
      { createdAt: expect.any(String), retiresAt: overlapEnd },
      { createdAt: second.createdAt },
    ]);

    const listed = await admin('webhook', 'list', 'hooked');
    expect(listed.stdout).toMatch(
      new RegExp(
        `^ENDPOINT\\s+URL\\s+EVENTS\\s+CREATED\\n${id}\\s+http://127\\.0\\.0\\.1:9/hook\\s+task\\.failed,session\\.ended\\s+\\S+$`,
        'm',
      ),
    );
    expect(listed.stdout).toMatch(
      /^SECRET\s+CREATED\s+RETIRES\n(whsec_\S{4}…\s+\S+\s+\S+Z\n){2}whsec_\S{4}…\s+\S+\s+\(current\)$/m,
    );
    const listedJson = await adminJson('webhook', 'list', 'hooked');
    expect(listedJson.endpoints).toEqual([
      expect.objectContaining({ id, events: ['task.failed', 'session.ended'] }),
    ]);
    expect(listedJson.secrets.map((s: { prefix: string }) => s.prefix)).toEqual([
      `${first.slice(0, 10)}…`,
      `${secret.slice(0, 10)}…`,
      `${second.secret.slice(0, 10)}…`,
    ]);
    const shown = await admin('--json', 'tenant', 'show', 'hooked');
    for (const text of [listed.stdout, JSON.stringify(listedJson), shown.stdout]) {
      expect(text).not.toContain(first);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(second.secret);
    }

    expect(await adminJson('webhook', 'remove', 'hooked', id)).toEqual({ removed: id });
    expect((await adminJson('webhook', 'list', 'hooked')).endpoints).toEqual([]);
  });

  it('an endpoint the egress guard refuses exits 3 DESTINATION_BLOCKED', async () => {
    const refused = await admin('webhook', 'add', 'hooked', 'http://169.254.169.254/latest/meta-data/');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^browserfleet: DESTINATION_BLOCKED: url: blocked by the egress guard/);
    expect(refused.stdout).toBe('');
  });
});

describe('usage and tasks', () => {
  it('usage verify and tasks backfill-history', async () => {
    const verified = await admin('usage', 'verify', 'acme');
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/Every counter equals its recount\.\n$/);
    expect(await adminJson('usage', 'verify')).toMatchObject({ exact: true });

    const backfilled = await admin('tasks', 'backfill-history');
    expect(backfilled).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Wrote the history keys of \d+ tasks?\.\n$/),
    });
    // Every row has its keys by now: a second run writes none.
    expect(await adminJson('tasks', 'backfill-history')).toEqual({ written: 0 });
  });
});

describe('the command line', () => {
  it('exit codes: 2 a wrong command line, 3 an unknown tenant, key or endpoint', async () => {
    const missing = await admin('tenant', 'show');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'tenant'/);
    expect(missing.stderr).toMatch(/Usage: browserfleet admin tenant show \[options\] <tenant>/);
    expect((await admin('key', 'frobnicate')).code).toBe(2);
    expect((await admin()).code).toBe(2);
    const notNumber = await admin('tenant', 'create', 'acme', '--rps', 'fast');
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/--rps must be a number/);
    expect((await admin('webhook', 'rotate-secret', 'acme', '--overlap-hours', '721')).code).toBe(2);
    // No table named: a usage error, before anything is asked of AWS.
    const noTable = await runCli(['admin', 'tenant', 'show', 'acme'], { STATE_TABLE_NAME: '' });
    expect(noTable.code).toBe(2);
    expect(noTable.stderr).toMatch(/set STATE_TABLE_NAME \(or pass --local/);

    const unknown = await admin('tenant', 'show', 'nobody');
    expect(unknown).toMatchObject({
      code: 3,
      stdout: '',
      stderr: 'browserfleet: NOT_FOUND: Tenant nobody not found.\n',
    });
    const unknownJson = await admin('--json', 'key', 'create', 'nobody');
    expect(unknownJson.code).toBe(3);
    expect(JSON.parse(unknownJson.stderr)).toEqual({
      error: { code: 'NOT_FOUND', message: 'Tenant nobody not found.' },
    });
    expect((await admin('key', 'revoke', 'acme', 'bf_NOTAKEY0')).stderr).toMatch(
      /NOT_FOUND: Tenant acme has no key/,
    );
    expect((await admin('webhook', 'remove', 'acme', 'ep_none')).code).toBe(3);
    // The platform's own validation of what was given: 3 naming the field, as the API's is.
    const invalid = await admin('tenant', 'create', 'Not_An_Id');
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/VALIDATION_FAILED: /);
  });

  it('--help on every command', async () => {
    for (const args of [
      [],
      ['tenant'],
      ...['create', 'limits', 'show'].map((c) => ['tenant', c]),
      ['key'],
      ...['create', 'list', 'revoke', 'rotate'].map((c) => ['key', c]),
      ['webhook'],
      ...['add', 'list', 'remove', 'rotate-secret'].map((c) => ['webhook', c]),
      ['usage'],
      ['usage', 'verify'],
      ['tasks'],
      ['tasks', 'backfill-history'],
    ]) {
      const help = await admin(...args, '--help');
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(new RegExp(`^Usage: browserfleet admin ${args.join(' ')}`));
    }
  });

  it('npm run admin -- … is the same program', async () => {
    const ran = await new Promise<Ran>((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', 'admin', '--', '--json', 'tenant', 'show', 'acme'],
        { cwd: ROOT, env: { ...process.env, ...adminEnv(cloud) }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : Number(error.code),
            stdout: String(stdout),
            stderr: String(stderr),
          }),
      );
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ tenantId: 'acme', limits: { maxRunningTasks: 3 } });
  });
});
