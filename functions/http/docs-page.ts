/**
 * The API reference page (`GET /docs`): Scalar's renderer, loaded from this API itself
 * (`/docs/api-reference.js`, never a CDN: a deployment may have no internet), pointed at
 * `/openapi.json`. Both are named relative to the page, so they resolve under a stage path too.
 */

/** The page's script, beside it. */
export const DOCS_SCRIPT_PATH = 'docs/api-reference.js';

/** Scalar's options: nothing it would fetch from elsewhere (fonts, telemetry, its AI agent). */
const SCALAR_CONFIGURATION = {
  url: 'openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: 'never',
  hideDownloadButton: false,
} as const;

/**
 * Only this origin: the page, its script and the document are all here, so anything else
 * the renderer might reach for is refused by the browser rather than leaked to a third party.
 * Scalar injects its styles and needs inline `style` attributes; the one inline script is the
 * configuration below.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const docsPage = (): string => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>browserfleet API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="${DOCS_SCRIPT_PATH}"></script>
    <script>
      Scalar.createApiReference('#app', ${JSON.stringify(SCALAR_CONFIGURATION)});
    </script>
  </body>
</html>
`;
