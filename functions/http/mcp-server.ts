/**
 * The MCP transport for one HTTP request: a stateless Streamable HTTP server (the official
 * SDK's web-standard transport, JSON answers, no SSE and no MCP session), built per request
 * with the tool table of shared/agents/mcp-tools.ts and the caller's tenant. Stateless, so
 * any instance answers any call; what persists (tasks, sessions) is in DynamoDB.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MCP_TOOLS, type McpCaller, type McpDeps, runTool } from '../../shared/agents/mcp-tools.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import type { HttpEvent, JsonAnswer } from './http-route.js';
import { publicBaseUrl } from './query.js';

export const MCP_SERVER_INFO = { name: 'browserfleet', version: '0.1.0' } as const;

const INSTRUCTIONS = [
  'browserfleet runs real Chromium for you.',
  'For one page, use screenshot, pdf, markdown, content, scrape or links with a URL.',
  'To drive a browser step by step, call session_create, then browser_* tools with its sessionId',
  '(browser_snapshot gives element refs that browser_click and browser_type accept), and session_close when done.',
  'Text answers are paged: when one ends with a cursor, call again with it for more.',
].join(' ');

/** The hostname of a Host header or an origin's authority, lower-cased, without the port. */
const hostnameOf = (authority: string): string =>
  (URL.parse(`http://${authority}`)?.hostname ?? '').toLowerCase();

/**
 * DNS-rebinding protection, as the MCP transport spec asks: the Host must be this API's own
 * name (API Gateway's `domainName`, which the local gateway sets to its own too), and an
 * Origin, when a browser sent one, must be that same host. A page on another site, or one
 * whose name was rebound to this address, is refused before anything runs.
 */
export const assertSameHost = (event: HttpEvent): void => {
  const own = hostnameOf(event.requestContext.domainName);
  const host = event.headers.host;
  if (host !== undefined && hostnameOf(host) !== own) {
    throw new BrowserfleetError(
      ERROR_CODES.FORBIDDEN_ORIGIN,
      `Host "${host}" is not this server's name; requests for another name are refused (DNS rebinding).`,
    );
  }
  const origin = event.headers.origin;
  if (origin === undefined) return;
  // The whole origin: scheme, host and port, as this API is called.
  const ownOrigin = URL.parse(publicBaseUrl(event))?.origin;
  if (URL.parse(origin)?.origin !== ownOrigin || origin === 'null') {
    throw new BrowserfleetError(
      ERROR_CODES.FORBIDDEN_ORIGIN,
      `Origin "${origin}" may not call this server: only pages of its own origin (${ownOrigin}) may.`,
    );
  }
};

const buildServer = (deps: McpDeps, caller: McpCaller, log: (error: unknown) => void): McpServer => {
  const server = new McpServer(MCP_SERVER_INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  for (const definition of MCP_TOOLS) {
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.input,
        annotations: definition.annotations,
      },
      async (args: Record<string, unknown>) => {
        try {
          return (await runTool(deps, caller, definition, args)) as CallToolResult;
        } catch (error) {
          // A fault, not a refusal: logged whole, answered without its internals.
          log(error);
          return {
            isError: true,
            content: [{ type: 'text', text: 'INTERNAL: the tool failed on the server; try again.' }],
          };
        }
      },
    );
  }
  return server;
};

/** Answers one MCP request: a JSON-RPC message (or a 405 for GET and DELETE). */
export const answerMcp = async (
  deps: McpDeps,
  request: { event: HttpEvent; body: unknown; caller: Omit<McpCaller, 'httpBaseUrl'> },
  log: (error: unknown) => void,
): Promise<JsonAnswer> => {
  const { event } = request;
  assertSameHost(event);
  const method = event.requestContext.http.method;
  if (method !== 'POST') {
    // Stateless: no stream to open with GET, no MCP session to end with DELETE (the
    // transport spec's answer for both is 405).
    return {
      statusCode: 405,
      headers: { allow: 'POST' },
      body: {
        error: {
          code: ERROR_CODES.METHOD_NOT_ALLOWED,
          message: `${method} /mcp is not served: this MCP server is stateless and answers POST only.`,
        },
      },
    };
  }
  const httpBaseUrl = publicBaseUrl(event);
  const server = buildServer(deps, { ...request.caller, httpBaseUrl }, log);
  // No session id generator: stateless, any instance answers any request.
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  await server.connect(transport);
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(event.headers)) {
      if (value !== undefined) headers.set(name, value);
    }
    const response = await transport.handleRequest(
      new Request(`${httpBaseUrl}${event.rawPath}`, {
        method,
        headers,
        body: JSON.stringify(request.body),
      }),
      { parsedBody: request.body },
    );
    const text = await response.text();
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'content-type' && name !== 'content-length') answerHeaders[name] = value;
    });
    return {
      statusCode: response.status,
      body: text,
      contentType: response.headers.get('content-type') ?? 'text/plain; charset=utf-8',
      headers: answerHeaders,
    };
  } finally {
    await server.close();
  }
};
