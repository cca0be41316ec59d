/**
 * The OpenAPI document is generated from the schemas that validate requests: these tests
 * hold it to the routes the gateways serve, the error codes the API answers and its own
 * examples.
 */
import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../functions/http/error-mapping.js';
import { buildOpenApiDocument } from '../../functions/http/openapi-document.js';
import { HTTP_ROUTES } from '../../shared/contracts.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { WEBHOOK_EVENT_TYPES } from '../../shared/webhooks/webhook-event.js';
import { documentValidator } from '../support/openapi-schemas.js';

const document = buildOpenApiDocument('http://127.0.0.1:3000');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

type Node = Record<string, unknown>;
interface Media {
  schema: unknown;
  examples: Record<string, { value: Record<string, unknown> }>;
}
/** The little of the document's shape the test below walks. */
interface Doc {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody: { content: Record<string, Media> };
        responses: Record<string, { content: Record<string, Media> }>;
      }
    >
  >;
}
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

/** Every example in the document with the schema it illustrates, and where it is. */
const examplesOf = (root: unknown): { where: string; schema: unknown; value: unknown }[] => {
  const found: { where: string; schema: unknown; value: unknown }[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) walk(child, `${where}/${i}`);
      return;
    }
    if (!isNode(node)) return;
    // A media type or a parameter: `schema` beside `example` / `examples` (a map of objects).
    if ('schema' in node) {
      if ('example' in node) found.push({ where, schema: node.schema, value: node.example });
      if (isNode(node.examples)) {
        for (const [name, example] of Object.entries(node.examples)) {
          if (isNode(example))
            found.push({ where: `${where}/examples/${name}`, schema: node.schema, value: example.value });
        }
      }
    } else if ('example' in node) {
      // A schema with its own example.
      const { example, ...schema } = node;
      found.push({ where, schema, value: example });
    }
    for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`);
  };
  walk(root, '#');
  return found;
};

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with a bearer API key as its default security', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components?.securitySchemes?.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ apiKey: [] }]);
  });

  it('has every route the gateways serve, with its method, path parameters and auth, and no other', () => {
    const operations: string[] = [];
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        if (item?.[method] !== undefined) operations.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(operations.sort()).toEqual(HTTP_ROUTES.map((r) => r.routeKey).sort());

    for (const route of HTTP_ROUTES) {
      const [method = '', path = ''] = route.routeKey.split(' ');
      const operation = document.paths?.[path]?.[method.toLowerCase() as (typeof METHODS)[number]];
      expect(operation, route.routeKey).toBeDefined();
      const pathParams = (operation?.parameters ?? []).filter((p) => 'in' in p && p.in === 'path');
      const named = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(pathParams.map((p) => ('name' in p ? p.name : '')).sort(), route.routeKey).toEqual(named.sort());
      for (const p of pathParams) expect('required' in p && p.required, route.routeKey).toBe(true);
      // An open route says so; the others take the document's API key.
      if (route.auth) {
        expect(operation?.security, route.routeKey).toBeUndefined();
        expect(Object.keys(operation?.responses ?? {}), route.routeKey).toEqual(
          expect.arrayContaining(['401', '429']),
        );
      } else {
        expect(operation?.security, route.routeKey).toEqual([]);
      }
      expect(operation?.operationId, route.routeKey).toMatch(/^\w+$/);
    }
  });

  it('names every error code, each in the status it is answered with', () => {
    const codes = Object.values(ERROR_CODES);
    const errorCode = document.components?.schemas?.ErrorCode as { type: string; enum: string[] };
    expect(errorCode.type).toBe('string');
    expect([...errorCode.enum].sort()).toEqual([...codes].sort());
    const text = JSON.stringify(document);
    for (const code of codes) expect(text).toContain(`"${code}"`);
    // The create route's 400 lists the codes a 400 carries.
    const created = document.paths?.['/v1/tasks']?.post?.responses?.['400'];
    expect(created && 'description' in created ? created.description : '').toContain('VALIDATION_FAILED');
    // Each code a client can be answered with is named in a response of the status it comes
    // with (codes mapped to 500 reach a client as INTERNAL).
    const named = new Map<string, string>();
    for (const item of Object.values((document as unknown as Doc).paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          const description = (response as { description?: string }).description ?? '';
          named.set(status, `${named.get(status) ?? ''} ${description}`);
        }
      }
    }
    for (const code of codes) {
      const status = httpStatusOf(code);
      if (status === 500) continue;
      expect(named.get(String(status)) ?? '', `${code} under ${status}`).toContain(code);
    }
  });

  it('describes every webhook event the platform sends, with its Standard Webhooks headers', () => {
    const webhooks = (
      document as unknown as { webhooks: Record<string, { post: { parameters: { name: string }[] } }> }
    ).webhooks;
    expect(Object.keys(webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    for (const [type, { post }] of Object.entries(webhooks)) {
      expect(
        post.parameters.map((p) => p.name),
        type,
      ).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    }
  });

  it('validates each of its examples against its own schema', () => {
    const validator = documentValidator(document);
    const examples = examplesOf(document);
    // Request bodies, answers and errors of the main routes, and the schemas' own.
    expect(examples.length).toBeGreaterThan(30);
    const failures = examples
      .map((e) => ({ where: e.where, errors: validator.errors(e.schema, e.value) }))
      .filter((f) => f.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('refuses an example that breaks its schema (the check above can fail)', () => {
    const validator = documentValidator(document);
    const create = (JSON.parse(JSON.stringify(document)) as Doc).paths['/v1/tasks']?.post;
    const media = create?.responses['202']?.content['application/json'];
    const example = media?.examples.queued?.value ?? {};
    expect(validator.errors(media?.schema, example)).toEqual([]);
    expect(validator.errors(media?.schema, { ...example, status: 'paused' })).not.toEqual([]);
    expect(validator.errors(media?.schema, { ...example, leaseToken: 3 })).not.toEqual([]);
    const wrongCode = { error: { code: 'NO_SUCH_CODE', message: 'x' } };
    expect(validator.componentErrors('Error', wrongCode)).not.toEqual([]);
    const schema = create?.requestBody.content['application/json']?.schema;
    expect(validator.errors(schema, { type: 'screenshot', url: 'https://example.com/' })).toEqual([]);
    const unknownField = { type: 'screenshot', url: 'https://example.com/', colour: 'red' };
    expect(validator.errors(schema, unknownField)).not.toEqual([]);
  });
});
