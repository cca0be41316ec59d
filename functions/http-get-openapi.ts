/** `GET /openapi.json` (no auth): the API's OpenAPI 3.1 document, generated from its schemas. */
import { type Env, loadHttpConfig } from '../shared/config.js';
import { lazy } from './entry/lazy.js';
import { httpRoute } from './http/http-route.js';
import { buildOpenApiDocument } from './http/openapi-document.js';
import { publicBaseUrl } from './http/query.js';
import { type ComposedHttpFunction, createRouteDeps, type RouteDeps } from './http/route-deps.js';

export const buildHandler = (deps: RouteDeps) => {
  // Built once per instance: the schemas don't change while it runs.
  const document = buildOpenApiDocument();
  return httpRoute({ logger: deps.logger, metrics: deps.metrics }, async ({ event }) => ({
    statusCode: 200,
    // The server is the API as this caller reached it (a custom domain, a stage, localhost).
    body: { ...document, servers: [{ url: publicBaseUrl(event) }] },
    headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
  }));
};

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-get-openapi', env);
  return { handler: buildHandler(createRouteDeps(config)), dispose: () => {} };
};

export const handler = lazy(() => compose(process.env).handler);
