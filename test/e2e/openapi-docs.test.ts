/**
 * The OpenAPI document and the docs page on the local cloud: both served without a key, the
 * page rendered by real Chromium from this API alone (no other origin is asked for
 * anything), and real answers of the API valid against the schemas the document gives them.
 */
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { type DocumentValidator, documentValidator } from '../support/openapi-schemas.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let fixtures: FixtureServer;
let browser: Browser | undefined;

beforeAll(async () => {
  fixtures = await startFixtureServer({ '/': '<!doctype html><title>Fixture</title><h1>Hello</h1>' });
  cloud = await startTestCloud({ lambdaTier: false, sweeper: false });
});
afterAll(async () => {
  await browser?.close();
  await cloud?.dispose();
  await fixtures?.close();
});

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Served {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const served = async (): Promise<Served> =>
  (await (await fetch(`${cloud.url}/openapi.json`)).json()) as Served;

/** The schema the document gives the answer of `METHOD path` with `status`. */
const answerSchema = (document: Served, method: string, path: string, status: number): unknown => {
  const schema =
    document.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`the document gives ${method} ${path} no ${status} answer`);
  return schema;
};

describe('the OpenAPI document and the docs page', () => {
  it('serve /openapi.json and /docs without a key, with their content types', async () => {
    const doc = await fetch(`${cloud.url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await doc.json()) as Served;
    expect(body.openapi).toBe('3.1.0');
    // The server is the API as the caller reached it.
    expect(body.servers).toEqual([{ url: cloud.url }]);

    const page = await fetch(`${cloud.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await page.text()).toContain('docs/api-reference.js');

    const script = await fetch(`${cloud.url}/docs/api-reference.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });

  it('renders the API reference in Chromium from this API alone', async () => {
    chromium.setGraphicsMode = false;
    browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      headless: 'shell',
      args: ['--no-sandbox'],
    });
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(cloud.url) && !url.startsWith('data:') && !url.startsWith('blob:'))
        elsewhere.push(url);
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const answer = await page.goto(`${cloud.url}/docs`, { waitUntil: 'domcontentloaded' });
    expect(answer?.status()).toBe(200);
    // The title from the document, and an operation of it, once Scalar has rendered them.
    await page.waitForFunction(
      () =>
        document.body.innerText.includes('browserfleet API') &&
        document.body.innerText.includes('Submit a task'),
      { timeout: 30_000 },
    );
    // The server is this API, and the tag's operations are listed by method and path.
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain(cloud.url);
    expect(text).toMatch(/GET\s+\/v1\/tasks\/\{id\}/);
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });

  describe('real answers match the schemas the document gives them', () => {
    let document: Served;
    let validator: DocumentValidator;
    beforeAll(async () => {
      document = await served();
      validator = documentValidator(document);
    });

    it('a task, queued and then succeeded', async () => {
      const api = apiClient(cloud.url, cloud.apiKey);
      const submitted = await api.submit({ type: 'screenshot', url: `${fixtures.url}/`, tier: 'fleet' });
      expect(submitted.status).toBe(202);
      expect(validator.errors(answerSchema(document, 'post', '/v1/tasks', 202), submitted.body)).toEqual([]);

      const ended = await api.waitForEnd(submitted.body.id);
      expect(ended.body.status).toBe('succeeded');
      expect(ended.body.result.artifacts).toHaveLength(1);
      expect(validator.errors(answerSchema(document, 'get', '/v1/tasks/{id}', 200), ended.body)).toEqual([]);
      const listed = await api.call('GET', '/v1/tasks?limit=5');
      expect(listed.body.tasks.length).toBeGreaterThan(0);
      expect(validator.errors(answerSchema(document, 'get', '/v1/tasks', 200), listed.body)).toEqual([]);
      const batch = await api.call('POST', '/v1/tasks/batch', {
        body: JSON.stringify({
          tasks: [
            { type: 'content', url: `${fixtures.url}/`, tier: 'fleet' },
            { type: 'nope', url: 'x' },
          ],
        }),
        headers: { 'content-type': 'application/json' },
      });
      expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([202, 400]);
      expect(validator.errors(answerSchema(document, 'post', '/v1/tasks/batch', 200), batch.body)).toEqual(
        [],
      );
      // The check bites: an answer with a field the document doesn't name is refused.
      expect(
        validator.errors(answerSchema(document, 'get', '/v1/tasks/{id}', 200), { ...ended.body, lease: {} }),
      ).not.toEqual([]);
    });

    it('a session, created and closed', async () => {
      const api = apiClient(cloud.url, cloud.apiKey);
      const created = await api.call('POST', '/v1/sessions', {
        body: JSON.stringify({ idleTimeoutMs: 60_000 }),
        headers: { 'content-type': 'application/json' },
      });
      expect(created.status).toBe(201);
      expect(validator.errors(answerSchema(document, 'post', '/v1/sessions', 201), created.body)).toEqual([]);
      const listed = await api.call('GET', '/v1/sessions');
      expect(validator.errors(answerSchema(document, 'get', '/v1/sessions', 200), listed.body)).toEqual([]);
      const closed = await api.call('DELETE', `/v1/sessions/${created.body.id}`);
      expect(closed.status).toBe(200);
      expect(
        validator.errors(answerSchema(document, 'delete', '/v1/sessions/{id}', 200), closed.body),
      ).toEqual([]);
    });

    it('limits, pressure and health', async () => {
      const api = apiClient(cloud.url, cloud.apiKey);
      const limits = await api.call('GET', '/v1/limits');
      expect(validator.errors(answerSchema(document, 'get', '/v1/limits', 200), limits.body)).toEqual([]);
      const pressure = await api.call('GET', '/v1/pressure');
      expect(validator.errors(answerSchema(document, 'get', '/v1/pressure', 200), pressure.body)).toEqual([]);
      const health = await api.call('GET', '/health');
      expect(health.status).toBe(200);
      expect(validator.errors(answerSchema(document, 'get', '/health', 200), health.body)).toEqual([]);
    });

    it('errors: 400, 401, 404 and 415', async () => {
      const api = apiClient(cloud.url, cloud.apiKey);
      const invalid = await api.submit({ type: 'screenshot', url: 'not a url' });
      expect(invalid.status).toBe(400);
      expect(validator.errors(answerSchema(document, 'post', '/v1/tasks', 400), invalid.body)).toEqual([]);
      const unauthorized = await apiClient(cloud.url, 'bf_wrong_key_0123456789').call('GET', '/v1/tasks/x');
      expect(unauthorized.status).toBe(401);
      expect(
        validator.errors(answerSchema(document, 'get', '/v1/tasks/{id}', 401), unauthorized.body),
      ).toEqual([]);
      const missing = await api.call('GET', '/v1/tasks/01a23841-bb81-791b-bdb9-509357b8e4f6');
      expect(missing.status).toBe(404);
      expect(validator.errors(answerSchema(document, 'get', '/v1/tasks/{id}', 404), missing.body)).toEqual(
        [],
      );
      const wrongType = await api.call('POST', '/v1/tasks', {
        body: '{}',
        headers: { 'content-type': 'text/plain' },
      });
      expect(wrongType.status).toBe(415);
      expect(validator.errors(answerSchema(document, 'post', '/v1/tasks', 415), wrongType.body)).toEqual([]);
    });
  });
});
