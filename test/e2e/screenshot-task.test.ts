/**
 * End to end through the HTTP API on the local cloud: real DynamoDB Local, SQS and S3
 * emulators, the real handlers behind the local gateway, the fleet worker and Chromium.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose as composeHealth } from '../../functions/http-health.js';
import {
  type ApiResponse,
  apiClient,
  type FixtureServer,
  pngSize,
  startFixtureServer,
} from '../support/fixtures.js';
import { createTestTenant, startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: FixtureServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html><body style="margin:0;background:#2a6"><h1>fixture</h1></body></html>',
    '/tall':
      '<html><body style="margin:0"><div style="height:3000px;background:linear-gradient(#f00,#00f)"></div></body></html>',
  });
  cloud = await startTestCloud();
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

const download = async (res: ApiResponse) => {
  const artifact = res.body.result.artifacts[0];
  const got = await fetch(artifact.url);
  expect(got.status).toBe(200);
  return { artifact, bytes: new Uint8Array(await got.arrayBuffer()) };
};

describe('screenshot task, end to end', () => {
  it('reports every dependency up on /health, without a key', async () => {
    const res = await fetch(`${cloud.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      dependencies: { dynamodb: { status: 'up' }, sqs: { status: 'up' }, s3: { status: 'up' } },
    });
  });

  it('answers 503 naming the dependency that does not answer', async () => {
    // The real handler and adapters, with S3 pointed at a port nothing listens on.
    const health = composeHealth({
      ...cloud.roleEnv('http-health'),
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
    });
    try {
      const res = await health.handler(
        { headers: {}, requestContext: { http: { method: 'GET' } } } as unknown as APIGatewayProxyEventV2,
        { getRemainingTimeInMillis: () => 10_000 } as Context,
      );
      expect(res.statusCode).toBe(503);
      expect(JSON.parse(String(res.body))).toMatchObject({
        status: 'unavailable',
        dependencies: { dynamodb: { status: 'up' }, sqs: { status: 'up' }, s3: { status: 'down' } },
      });
    } finally {
      health.dispose();
    }
  });

  it('accepts a task with 202, runs it in Chromium and serves a PNG of the requested viewport', async () => {
    const submitted = await api.submit({
      type: 'screenshot',
      url: `${site.url}/`,
      options: { viewport: { width: 640, height: 480 } },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/v1/tasks/${submitted.body.id}`);
    expect(submitted.body).toMatchObject({ status: 'queued', type: 'screenshot', attempts: 0 });
    expect(typeof submitted.body.createdAt).toBe('string');

    const done = await api.waitForEnd(submitted.body.id);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: submitted.body.id,
      status: 'succeeded',
      attempts: 1,
      result: { httpStatus: 200, finalUrl: `${site.url}/` },
    });
    const { artifact, bytes } = await download(done);
    expect(artifact).toMatchObject({
      name: 'screenshot.png',
      contentType: 'image/png',
      size: bytes.byteLength,
    });
    expect(pngSize(bytes)).toEqual({ width: 640, height: 480 });
  });

  it('honours deviceScaleFactor, fullPage and jpeg', async () => {
    const [scaled, full, jpeg] = await Promise.all([
      api.submit({
        type: 'screenshot',
        url: `${site.url}/`,
        options: { viewport: { width: 300, height: 200, deviceScaleFactor: 2 } },
      }),
      api.submit({
        type: 'screenshot',
        url: `${site.url}/tall`,
        options: { viewport: { width: 400, height: 300 }, fullPage: true },
      }),
      api.submit({ type: 'screenshot', url: `${site.url}/`, options: { format: 'jpeg', quality: 60 } }),
    ]);
    const scaledPng = await download(await api.waitForEnd(scaled.body.id));
    expect(pngSize(scaledPng.bytes)).toEqual({ width: 600, height: 400 });
    const fullPng = await download(await api.waitForEnd(full.body.id));
    expect(pngSize(fullPng.bytes)).toEqual({ width: 400, height: 3000 });
    const jpegShot = await download(await api.waitForEnd(jpeg.body.id));
    expect(jpegShot.artifact).toMatchObject({ name: 'screenshot.jpeg', contentType: 'image/jpeg' });
    expect([...jpegShot.bytes.slice(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('ends a task whose page cannot be reached as failed, with a code and a message', async () => {
    const closed = await startFixtureServer({});
    const url = `${closed.url}/`;
    await closed.close();
    const submitted = await api.submit({ type: 'screenshot', url });
    const done = await api.waitForEnd(submitted.body.id);
    expect(done.body).toMatchObject({ status: 'failed', error: { code: 'NAVIGATION_FAILED' } });
    expect(done.body.error.message).toMatch(/net::ERR_/);
    expect(done.body.result).toBeUndefined();
  });
});

describe('authentication', () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${cloud.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ type: 'screenshot', url: `${site.url}/` }),
    });

  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer wrong-key-0123456789' }],
    ['another scheme', { authorization: `Basic ${TEST_API_KEY}` }],
  ])('answers %s with 401 UNAUTHORIZED', async (_what, headers) => {
    const res = await post(headers);
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(typeof body.error.message).toBe('string');
  });

  it("answers another tenant's finished task with 404, so its artifact URLs never reach them", async () => {
    const { key } = await createTestTenant(cloud, 'other-tenant');
    const done = await api.run({ type: 'screenshot', url: `${site.url}/` });
    expect(done.body.status).toBe('succeeded');
    const other = apiClient(cloud.url, key);
    for (const path of [`/v1/tasks/${done.body.id}`, `/v1/tasks/${done.body.id}?wait=1`]) {
      const res = await other.call('GET', path);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('X-Amz-Signature');
    }
    expect((await other.call('DELETE', `/v1/tasks/${done.body.id}`)).status).toBe(404);
  });

  it('guards reads too', async () => {
    const res = await fetch(`${cloud.url}/v1/tasks/anything`);
    expect(res.status).toBe(401);
  });
});

describe('bad input gets a 4xx with a code, never a 5xx', () => {
  const raw = (method: string, path: string, body?: string, contentType = 'application/json') =>
    api.call(method, path, {
      ...(body === undefined ? {} : { body }),
      headers: { 'content-type': contentType },
    });

  it.each([
    ['malformed JSON', '{"type": "screenshot",', 400, 'MALFORMED_JSON'],
    ['an empty body', '', 400, 'MALFORMED_JSON'],
    ['a JSON array', '[1,2]', 400, 'VALIDATION_FAILED'],
    ['a JSON string', '"screenshot"', 400, 'VALIDATION_FAILED'],
    ['an unknown type', '{"type":"teleport","url":"http://a.test/"}', 400, 'VALIDATION_FAILED'],
    ['a bad URL', '{"type":"screenshot","url":"ftp://a.test/"}', 400, 'VALIDATION_FAILED'],
    [
      'a wrong option type',
      '{"type":"screenshot","url":"http://a.test/","options":{"fullPage":"yes"}}',
      400,
      'VALIDATION_FAILED',
    ],
    [
      'an unknown field',
      '{"type":"screenshot","url":"http://a.test/","colour":"red"}',
      400,
      'VALIDATION_FAILED',
    ],
  ])('answers %s with %i %s', async (_what, body, status, code) => {
    const res = await raw('POST', '/v1/tasks', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(0);
  });

  it('names the field and the rule', async () => {
    const res = await raw(
      'POST',
      '/v1/tasks',
      '{"type":"screenshot","url":"http://a.test/","options":{"viewport":{"width":99999}}}',
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/options\.viewport\.width: .*3840/);
    expect(res.body.error.details.issues[0].field).toBe('options.viewport.width');
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await raw('POST', '/v1/tasks', 'type=screenshot', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an oversized body with 413', async () => {
    const res = await raw(
      'POST',
      '/v1/tasks',
      JSON.stringify({ type: 'screenshot', url: 'http://a.test/', pad: 'x'.repeat(300_000) }),
    );
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers an unknown task id with 404 NOT_FOUND', async () => {
    const res = await api.get('00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    const missing = await raw('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ROUTE_NOT_FOUND');
    const wrong = await raw('PUT', '/v1/tasks', '{}');
    expect(wrong.status).toBe(405);
    expect(wrong.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('survives a barrage of junk bodies without a single 5xx', async () => {
    const junk = [
      'null',
      '0',
      'true',
      '{}',
      '{"type":null}',
      '{"type":"screenshot","url":123}',
      '{"options":[]}',
      '\u0000',
      '{"type":"screenshot","url":"http://a.test/","options":{"viewport":null}}',
      '{"__proto__":{"x":1}}',
      '💥',
    ];
    const statuses = await Promise.all(junk.map(async (b) => (await raw('POST', '/v1/tasks', b)).status));
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
  });
});

describe('restart', () => {
  it('keeps finished tasks and their artifacts across a restart of the local cloud', async () => {
    const submitted = await api.submit({
      type: 'screenshot',
      url: `${site.url}/`,
      options: { viewport: { width: 320, height: 240 } },
    });
    const before = await download(await api.waitForEnd(submitted.body.id));

    const dataDir = cloud.dataDir;
    await cloud.stop();
    const restarted = await startTestCloud({ dataDir });
    try {
      const again = apiClient(restarted.url, TEST_API_KEY);
      const res = await again.get(submitted.body.id);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('succeeded');
      const after = await download(res);
      expect(after.bytes).toEqual(before.bytes);
      expect(pngSize(after.bytes)).toEqual({ width: 320, height: 240 });
    } finally {
      await restarted.stop();
    }
  });
});
