/**
 * `GET /docs` (no auth): the API reference page, and `GET /docs/api-reference.js`, the
 * renderer it loads (Scalar's standalone bundle), served from here so the page works where
 * there is no internet. The bundle is read from disk once: beside the deployed bundle (the
 * CDK copies it there), or from node_modules when run from the source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { DOCS_RENDERER } from '../shared/contracts.js';
import { lazy } from './entry/lazy.js';
import { DOCS_CONTENT_SECURITY_POLICY, DOCS_SCRIPT_PATH, docsPage } from './http/docs-page.js';
import { httpRoute } from './http/http-route.js';
import { type ComposedHttpFunction, createRouteDeps, type RouteDeps } from './http/route-deps.js';

export interface DocsDeps extends RouteDeps {
  /** The renderer's source, read once. */
  script: () => string;
}

export const buildHandler = (deps: DocsDeps) => {
  const page = docsPage();
  return httpRoute({ logger: deps.logger, metrics: deps.metrics }, async ({ event }) =>
    event.rawPath.endsWith(`/${DOCS_SCRIPT_PATH}`)
      ? {
          statusCode: 200,
          contentType: 'text/javascript; charset=utf-8',
          // The file changes only with a deploy; a day keeps a reload from fetching 5 MB again.
          headers: { 'cache-control': 'public, max-age=86400' },
          body: deps.script(),
        }
      : {
          statusCode: 200,
          contentType: 'text/html; charset=utf-8',
          headers: {
            'cache-control': 'public, max-age=300',
            'content-security-policy': DOCS_CONTENT_SECURITY_POLICY,
            'referrer-policy': 'no-referrer',
            'x-content-type-options': 'nosniff',
          },
          body: page,
        },
  );
};

/** Beside the running bundle when deployed, else the package's own copy. */
const scriptFile = (): string => {
  const beside = fileURLToPath(new URL(`./${DOCS_RENDERER.bundledFile}`, import.meta.url));
  if (existsSync(beside)) return beside;
  // The package exports no subpath to the file: find it from the package's main entry.
  const [name, ...rest] = DOCS_RENDERER.packageFile.split('/');
  const packageName = `${name}/${rest[0]}`;
  const main = createRequire(import.meta.url).resolve(packageName);
  const root = main.slice(
    0,
    main.lastIndexOf(`/node_modules/${packageName}/`) + `/node_modules/${packageName}/`.length,
  );
  return join(root, ...rest.slice(1));
};

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-docs', env);
  let script: string | undefined;
  const handler = buildHandler({
    ...createRouteDeps(config),
    script: () => {
      script ??= readFileSync(scriptFile(), 'utf8');
      return script;
    },
  });
  return { handler, dispose: () => {} };
};

export const handler = lazy(() => compose(process.env).handler);
