/**
 * A local stand-in for API Gateway's HTTP API: it matches routes, builds payload-v2 events
 * exactly as API Gateway does, invokes the Lambda handlers from `functions/` and writes
 * their answers back. No business logic lives here.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface GatewayRoute {
  /** `METHOD /path/{param}`, as in API Gateway. */
  routeKey: string;
  functionName: string;
  handler: HttpHandler;
}

/** API Gateway's payload limit (10 MB) and its integration timeout (30 s). */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;

interface CompiledRoute extends GatewayRoute {
  method: string;
  pattern: RegExp;
  params: string[];
}

const compile = (route: GatewayRoute): CompiledRoute => {
  const [method = '', path = ''] = route.routeKey.split(' ');
  const params: string[] = [];
  const pattern = new RegExp(
    `^${path
      .split('/')
      .map((part) => {
        const param = /^\{(\w+)\}$/.exec(part);
        if (param?.[1] === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(param[1]);
        return '([^/]+)';
      })
      .join('/')}$`,
  );
  return { ...route, method, pattern, params };
};

const send = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

const errorBody = (code: string, message: string) => ({ error: { code, message } });

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The API's own name, as API Gateway's `domainName` always is (it routes by it): the Host
 * when it names this machine's loopback, else the gateway's own `127.0.0.1:<port>` — so a
 * request for another name (a DNS name rebound to 127.0.0.1) doesn't pass for this API's.
 */
const ownDomainName = (host: string | undefined, port: number | undefined): string => {
  const hostname = host === undefined ? undefined : URL.parse(`http://${host}`)?.hostname;
  if (host !== undefined && hostname !== undefined && LOOPBACK_NAMES.has(hostname)) return host;
  return `127.0.0.1:${port ?? 0}`;
};

export const startHttpGateway = async (options: {
  port: number;
  routes: GatewayRoute[];
  onError?: (error: unknown) => void;
}): Promise<RunningGateway> => {
  const routes = options.routes.map(compile);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (url === null) {
      req.resume();
      send(res, 400, errorBody('VALIDATION_FAILED', 'The request target is not a valid path.'));
      return;
    }
    const method = req.method ?? 'GET';
    const matches = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((m) => m.match !== null);
    const hit = matches.find((m) => m.route.method === method);
    if (hit === undefined || hit.match === null) {
      req.resume();
      if (matches.length > 0) {
        res.setHeader('allow', matches.map((m) => m.route.method).join(', '));
        send(res, 405, errorBody('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}.`));
      } else {
        send(res, 404, errorBody('ROUTE_NOT_FOUND', `No route for ${method} ${url.pathname}.`));
      }
      return;
    }

    // API Gateway decodes path parameters; a broken escape (`%E0`) is the client's mistake.
    const pathParameters: Record<string, string> = {};
    for (const [i, name] of hit.route.params.entries()) {
      const raw = hit.match[i + 1] ?? '';
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        req.resume();
        send(res, 400, errorBody('VALIDATION_FAILED', `${name}: "${raw}" is not valid percent-encoding.`));
        return;
      }
    }

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) {
        send(res, 413, errorBody('PAYLOAD_TOO_LARGE', 'Request body exceeds 10 MB.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);

    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (name === 'cookie') {
        cookies.push(...String(value).split(/;\s*/));
        continue;
      }
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
    const textual = /^(application\/(.+\+)?json|text\/|application\/x-www-form-urlencoded)/i.test(
      headers['content-type'] ?? '',
    );
    const requestId = randomUUID();

    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: hit.route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(cookies.length > 0 ? { cookies } : {}),
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      ...(hit.route.params.length > 0 ? { pathParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: ownDomainName(headers.host, req.socket.localPort),
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: hit.route.routeKey,
        stage: '$default',
        time: new Date(started).toUTCString(),
        timeEpoch: started,
      },
      ...(body.length > 0
        ? textual
          ? { body: body.toString('utf8'), isBase64Encoded: false }
          : { body: body.toString('base64'), isBase64Encoded: true }
        : { isBase64Encoded: false }),
    };

    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: hit.route.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${hit.route.functionName}`,
      memoryLimitInMB: '1024',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${hit.route.functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, INTEGRATION_TIMEOUT_MS - (Date.now() - started)),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };

    let result: APIGatewayProxyStructuredResultV2;
    try {
      result = await hit.route.handler(event, context);
    } catch (error) {
      // What API Gateway answers when the integration fails.
      options.onError?.(error);
      send(res, 500, { message: 'Internal Server Error' });
      return;
    }
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) responseHeaders[k] = String(v);
    if (result.cookies !== undefined && result.cookies.length > 0)
      responseHeaders['set-cookie'] = result.cookies;
    responseHeaders['apigw-requestid'] = requestId;
    res.writeHead(result.statusCode ?? 200, responseHeaders);
    const payload = result.body ?? '';
    res.end(result.isBase64Encoded === true ? Buffer.from(payload, 'base64') : payload);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
};
