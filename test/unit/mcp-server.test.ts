/**
 * The MCP transport adapter (functions/http/mcp-server.ts) with the real SDK, in process:
 * what a tool that meets a fault of the world answers. A throttled dependency is the
 * model's to read; a hidden code or a bug is logged and answered without its internals.
 */
import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../functions/http/http-route.js';
import { answerMcp } from '../../functions/http/mcp-server.js';
import type { McpDeps } from '../../shared/agents/mcp-tools.js';
import { BrowserfleetError } from '../../shared/errors.js';

const event = (headers: Record<string, string> = {}): HttpEvent =>
  ({
    rawPath: '/mcp',
    headers: {
      host: '127.0.0.1:3000',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    requestContext: { domainName: '127.0.0.1:3000', http: { method: 'POST' } },
  }) as unknown as HttpEvent;

const callTool = async (failure: unknown, headers: Record<string, string> = {}) => {
  const logged: unknown[] = [];
  const deps = {
    runCommand: async () => {
      throw failure;
    },
  } as unknown as McpDeps;
  const answer = await answerMcp(
    deps,
    {
      event: event(headers),
      body: {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'browser_reload', arguments: { sessionId: 's1' } },
      },
      caller: { tenantId: 't', maxQueuedTasks: 1, maxLiveSessions: 1 },
    },
    (error) => logged.push(error),
  );
  const body = JSON.parse(String(answer.body)) as {
    result: { isError?: boolean; content: { text: string }[] };
  };
  return { status: answer.statusCode, result: body.result, logged };
};

describe('a tool that meets a fault', () => {
  it('a throttled dependency is an error the model reads, and nothing is logged as a fault', async () => {
    const { status, result, logged } = await callTool(
      new BrowserfleetError('THROTTLED', 'DynamoDB throttled the request; try again.'),
    );
    expect(status).toBe(200);
    expect(result).toMatchObject({
      isError: true,
      content: [{ text: 'THROTTLED: DynamoDB throttled the request; try again.' }],
    });
    expect(logged).toEqual([]);
  });

  it.each([
    [
      'a code clients are never shown',
      new BrowserfleetError('LEASE_LOST', 'lease of worker-7 lost at token 12'),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'endpoint')")],
  ])('%s is logged whole and answered without its internals', async (_what, failure) => {
    const { status, result, logged } = await callTool(failure);
    expect(status).toBe(200);
    expect(result).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'INTERNAL: the tool failed on the server; try again.' }],
    });
    expect(logged).toEqual([failure]);
  });

  it('a request for another Host is refused before any tool runs', async () => {
    await expect(callTool(new Error('never'), { host: 'evil.example.com' })).rejects.toMatchObject({
      code: 'FORBIDDEN_ORIGIN',
    });
  });
});
