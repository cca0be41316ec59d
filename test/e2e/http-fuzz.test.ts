/**
 * Fuzz: thousands of generated malformed requests at the HTTP API. None may produce a 5xx
 * or take the process down, and every error answer has a machine-readable code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1200);

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
});
afterAll(async () => {
  await cloud?.dispose();
});

const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/**
 * Well-formed web URLs whose host is an address literal: the submit-time egress check
 * resolves host names, and a fuzzer's random domains would be looked up on the public DNS.
 */
const webUrlWithoutDns = fc
  .tuple(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom(
      '93.184.215.14',
      '10.0.0.1',
      '127.0.0.1',
      '[::1]',
      '169.254.169.254',
      '[2001:db8::1]:8443',
    ),
  )
  .map(([url, host]) => url.replace(/^(https?:\/\/)[^/?#]*/, `$1${host}`));

/** A task body that is wrong somewhere. */
const taskLike = fc.record(
  {
    type: fc.oneof(fc.constant('screenshot'), fc.string(), jsonish),
    url: fc.oneof(
      webUrlWithoutDns,
      fc.string(),
      fc.constantFrom('file:///etc/passwd', 'javascript:alert(1)', 'http://', 'http://[::1', '//x', ''),
      jsonish,
    ),
    options: fc.oneof(
      jsonish,
      fc.record(
        {
          viewport: fc.oneof(
            jsonish,
            fc.record({ width: jsonish, height: jsonish, deviceScaleFactor: jsonish }),
          ),
          format: fc.oneof(fc.constantFrom('png', 'jpeg', 'webp', 'gif'), jsonish),
          quality: jsonish,
          fullPage: jsonish,
          waitUntil: jsonish,
          timeoutMs: fc.oneof(fc.integer(), fc.double(), jsonish),
        },
        { requiredKeys: [] },
      ),
    ),
    maxAttempts: jsonish,
    extra: jsonish,
  },
  { requiredKeys: [] },
);

/** Bodies that look like tasks (alone or in a batch) but are wrong somewhere, and bodies that are not JSON at all. */
const body = fc.oneof(
  taskLike.map((v) => JSON.stringify(v)),
  fc.array(fc.oneof(taskLike, jsonish), { maxLength: 5 }).map((tasks) => JSON.stringify({ tasks })),
  jsonish.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    '{',
    '[',
    '{"type":',
    '\u0000',
    '{"a":1}{"b":2}',
    'nul',
    '1e999999',
    '{"__proto__":{"polluted":1}}',
  ),
);

const request = fc.record({
  // Weighted towards what reaches the handlers: POSTed bodies to /v1/tasks.
  method: fc.oneof(
    { arbitrary: fc.constant('POST'), weight: 6 },
    { arbitrary: fc.constantFrom('GET', 'DELETE'), weight: 2 },
    { arbitrary: fc.constantFrom('PUT', 'PATCH', 'HEAD', 'OPTIONS'), weight: 1 },
  ),
  path: fc.oneof(
    { arbitrary: fc.constant('/v1/tasks'), weight: 10 },
    { arbitrary: fc.constant('/v1/sessions'), weight: 4 },
    { arbitrary: fc.constant('/v1/tasks/batch'), weight: 3 },
    fc.constantFrom('/v1/limits', '/health'),
    fc.string({ maxLength: 40 }).map((id) => `/v1/tasks/${encodeURIComponent(id) || 'x'}`),
    fc
      .string({ maxLength: 40 })
      .map((id) => `/v1/sessions/${encodeURIComponent(id) || 'x'}${id.length % 2 === 0 ? '' : '/live'}`),
    fc.constantFrom('/v1/tasks/..%2F..%2Fetc', '/v1//tasks', '/v1/tasks/%00', '/V1/TASKS', '/'),
    // Broken percent-encoding, sent as it is: a 400, not a 500.
    fc.constantFrom(
      '/v1/tasks/%E0',
      '/v1/tasks/%',
      '/v1/tasks/%zz',
      '/v1/sessions/%C0%AF/live',
      '/v1/sessions/%ff',
    ),
    // Ids longer than DynamoDB allows in a key: still a 404, not a 500.
    fc.constantFrom(`/v1/tasks/${'x'.repeat(1500)}`, `/v1/sessions/${'x'.repeat(1500)}`),
  ),
  query: fc.oneof(
    fc.constant(''),
    fc.constantFrom(
      '?wait=abc',
      '?wait=-1',
      '?wait=1e3',
      '?wait=26',
      '?wait=',
      '?x=1&wait=2',
      '?wait=0&wait=1',
      '?limit=0',
      '?limit=abc',
      '?status=zombie',
      '?type=video&status=queued',
      '?since=yesterday',
      '?since=2026-13-45T25:61:00Z',
      '?since=1764633600000',
      '?cursor=',
      '?cursor=zzz',
      '?cursor=eyJ2IjoxfQ',
      '?cursor=%FF%FE',
      // A well-formed cursor this API never gave out, alone and older than `since`.
      '?cursor=eyJ2IjoxLCJjIjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIiwiaSI6IngifQ',
      '?since=2027-01-01T00:00:00Z&cursor=eyJ2IjoxLCJjIjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIiwiaSI6IngifQ',
      '?limit=101&cursor=eyJ2IjoxLCJjIjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIiwiaSI6IngifQ',
      '?ticket=',
      '?ticket=a.b',
    ),
    fc.string({ maxLength: 20 }).map((q) => `?${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
  ),
  contentType: fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 5 },
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/xml',
      '',
    ),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  auth: fc.oneof(
    { arbitrary: fc.constant(`Bearer ${TEST_API_KEY}`), weight: 6 },
    fc.constantFrom('', 'Bearer', 'Bearer  ', 'Basic abc', `bearer ${TEST_API_KEY}x`),
    fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  idempotencyKey: fc.option(fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s))),
  body,
});

describe('HTTP fuzz', () => {
  it(`${RUNS} malformed requests: no 5xx, no crash, every error has a code`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const hasBody = !['GET', 'HEAD'].includes(r.method);
        const res = await fetch(`${cloud.url}${r.path}${r.query}`, {
          method: r.method,
          headers: {
            ...(r.contentType === '' ? {} : { 'content-type': r.contentType }),
            ...(r.auth === '' ? {} : { authorization: r.auth }),
            ...(r.idempotencyKey === null || r.idempotencyKey === ''
              ? {}
              : { 'idempotency-key': r.idempotencyKey }),
          },
          ...(hasBody ? { body: r.body } : {}),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${r.method} ${r.path}${r.query} → ${res.status} ${text}`).toBeLessThan(500);
        if (res.status >= 400 && r.method !== 'HEAD') {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof parsed.error?.code).toBe('string');
          expect(typeof parsed.error?.message).toBe('string');
          expect(text).not.toMatch(/\bat .*\.ts:\d+|stack/i);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`fuzz figures: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect((await fetch(`${cloud.url}/health`)).status).toBe(200);
  }, 300_000);
});

describe('payloads a hostile tenant sends', () => {
  const submit = (body: string) =>
    fetch(`${cloud.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body,
    });

  it.each([
    [
      'args',
      (deep: string) =>
        `{"type":"evaluate","url":"http://93.184.215.14/","options":{"script":"() => 1","args":[${deep}]}}`,
    ],
    ['options', (deep: string) => `{"type":"screenshot","url":"http://93.184.215.14/","options":${deep}}`],
  ])(
    '6,000 levels of nesting in %s (a 12 KB body) is a 400 naming the rule, not a 500',
    async (_where, build) => {
      const deep = `${'['.repeat(6_000)}${']'.repeat(6_000)}`;
      const res = await submit(build(deep));
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(400);
      expect(answer.error.code).toBe('VALIDATION_FAILED');
      expect(answer.error.message).toMatch(/nest deeper than \d+ levels/);
    },
  );

  it('a header value with CR/LF is a 400 at submit, not a task that fails (or retries) later', async () => {
    const res = await submit(
      JSON.stringify({
        type: 'screenshot',
        url: 'http://93.184.215.14/',
        options: { extraHTTPHeaders: { 'x-a': 'one\r\nx-injected: two' } },
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'options.extraHTTPHeaders.x-a',
    );
  });
});
