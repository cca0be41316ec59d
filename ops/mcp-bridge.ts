/**
 * The stdio bridge: a desktop MCP client (one that starts a local process and speaks MCP on
 * its stdin and stdout) reaches a deployment's `/mcp` through it. It is a client of the
 * HTTP server, not a second server: every message goes up as it came, every answer comes
 * back as it went, with the API key added. A request the server can't be reached for is
 * answered with a JSON-RPC error, so the desktop client is never left waiting.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface BridgeOptions {
  /** The platform's base URL (`npm start`'s, or a deployment's API). */
  baseUrl: string;
  apiKey: string;
  log: (line: string) => void;
}

const isRequest = (
  message: JSONRPCMessage,
): message is JSONRPCMessage & { id: string | number; method: string } =>
  'method' in message && 'id' in message;

/** Runs until stdin ends; resolves then. */
export const runMcpBridge = async (options: BridgeOptions): Promise<void> => {
  const upstream = new StreamableHTTPClientTransport(
    new URL('mcp', `${options.baseUrl.replace(/\/+$/, '')}/`),
    {
      requestInit: { headers: { authorization: `Bearer ${options.apiKey}` } },
    },
  );
  const local = new StdioServerTransport();
  const initializeIds = new Set<string | number>();

  upstream.onmessage = (message) => {
    // The protocol version the server chose goes on every later request, as the SDK's own
    // client does it.
    if (
      'id' in message &&
      message.id !== undefined &&
      initializeIds.delete(message.id) &&
      'result' in message
    ) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') upstream.setProtocolVersion(version);
    }
    local.send(message).catch((error: unknown) => options.log(`stdout: ${String(error)}`));
  };
  upstream.onerror = (error) => options.log(`upstream: ${error.message}`);
  local.onmessage = (message) => {
    if (isRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    upstream.send(message).catch((error: unknown) => {
      options.log(`upstream: ${String(error)}`);
      if (!isRequest(message)) return;
      void local.send({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32000, message: `browserfleet at ${options.baseUrl} failed: ${String(error)}` },
      });
    });
  };

  const closed = new Promise<void>((resolve) => {
    local.onclose = () => resolve();
  });
  // stdin's end is the desktop client going away.
  process.stdin.once('end', () => void local.close());
  await upstream.start();
  await local.start();
  await closed;
  await upstream.close();
};
