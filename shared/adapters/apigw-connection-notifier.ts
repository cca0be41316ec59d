import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { WEBSOCKET } from '../contracts.js';
import type { ConnectionNotifier, ServerMessage } from '../session/ports.js';

/**
 * Sends to WebSocket clients through API Gateway's management API (`@connections`). The
 * local cloud's gateway serves the same API, so this is the one adapter for both. A
 * message over API Gateway's 128 KB limit is never sent: callers size what they send
 * (screencast frames are capped; screenshots go to S3 and travel as a URL).
 */
export class ApiGatewayConnectionNotifier implements ConnectionNotifier {
  private readonly client: ApiGatewayManagementApiClient;

  /** `region` unset: the SDK's own resolution (the local cloud's gateway takes any region). */
  constructor(options: { endpoint: string; region?: string | undefined; localCredentials?: boolean }) {
    const region = options.region ?? (options.localCredentials === true ? 'us-east-1' : undefined);
    this.client = new ApiGatewayManagementApiClient({
      endpoint: options.endpoint,
      ...(region === undefined ? {} : { region }),
      // A post is small and API Gateway answers fast; one that can't connect (no route out of
      // a VPC) must fail soon rather than hold a request until its Lambda times out.
      requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 }),
      ...(options.localCredentials === true
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
  }

  async send(connectionId: string, message: ServerMessage): Promise<boolean> {
    const data = Buffer.from(JSON.stringify(message));
    if (data.length > WEBSOCKET.maxMessageBytes) {
      throw new RangeError(`A ${message.type} message of ${data.length} bytes exceeds API Gateway's 128 KB.`);
    }
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      throw error;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
