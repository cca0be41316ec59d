import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCAL_API_KEY,
  loadHttpConfig,
  loadLocalConfig,
  loadWorkerConfig,
  loadWsConfig,
} from '../../shared/config.js';
import { BrowserfleetError } from '../../shared/errors.js';

describe('config', () => {
  it('reports every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadHttpConfig('http-create-task', { FLEET_QUEUE_URL: 'not-a-url', ARTIFACT_URL_TTL_SECONDS: '5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BrowserfleetError);
    const message = (error as BrowserfleetError).message;
    expect((error as BrowserfleetError).code).toBe('CONFIG_INVALID');
    expect(message).toMatch(/5 problems/);
    expect(message).toContain('LAMBDA_QUEUE_URL: is required');
    expect(message).toContain('ARTIFACT_URL_TTL_SECONDS');
    expect(message).toContain('STATE_TABLE_NAME: is required');
    expect(message).toContain('FLEET_QUEUE_URL');
    expect(message).toContain('ARTIFACT_BUCKET_NAME: is required');
  });

  it("an HTTP function's config requires exactly what its declared resources imply", () => {
    // get-task reads the table and presigns artifacts: no queue, no ticket secret, no public URLs.
    const getTask = loadHttpConfig('http-get-task', {
      STATE_TABLE_NAME: 't',
      ARTIFACT_BUCKET_NAME: 'bucket',
    });
    expect(getTask).toMatchObject({
      stateTable: 't',
      artifactBucket: 'bucket',
      artifactUrlTtlSeconds: 3_600,
    });
    expect(getTask).not.toHaveProperty('fleetQueueUrl');
    expect(() => loadHttpConfig('http-get-task', {})).toThrow(
      /2 problems[\s\S]*STATE_TABLE_NAME: is required[\s\S]*ARTIFACT_BUCKET_NAME: is required/,
    );
    // live-view only checks tickets and names the WebSocket API.
    expect(() => loadHttpConfig('http-live-view', {})).toThrow(
      /2 problems[\s\S]*WEBSOCKET_PUBLIC_URL: is required[\s\S]*SESSION_TICKET_SECRET_ID or SESSION_TICKET_SECRET/,
    );
    const liveView = loadHttpConfig('http-live-view', {
      WEBSOCKET_PUBLIC_URL: 'wss://ws.example/',
      SESSION_TICKET_SECRET: 's'.repeat(32),
    });
    expect(liveView).toMatchObject({
      websocketPublicUrl: 'wss://ws.example',
      ticketSecret: { kind: 'value', value: 's'.repeat(32) },
    });
    expect(liveView).not.toHaveProperty('stateTable');
  });

  it('a runtime that checks tickets needs the secret or its ARN, reported with every other problem', () => {
    expect(() => loadWsConfig({})).toThrow(
      /2 problems[\s\S]*STATE_TABLE_NAME: is required[\s\S]*SESSION_TICKET_SECRET_ID or SESSION_TICKET_SECRET: one of them is required/,
    );
    expect(
      loadWsConfig({ STATE_TABLE_NAME: 't', SESSION_TICKET_SECRET_ID: 'arn:secret' }).ticketSecret,
    ).toEqual({
      kind: 'secretsManager',
      secretId: 'arn:secret',
    });
    expect(
      loadWsConfig({ STATE_TABLE_NAME: 't', SESSION_TICKET_SECRET: 's'.repeat(32) }).ticketSecret,
    ).toEqual({
      kind: 'value',
      value: 's'.repeat(32),
    });
  });

  it('treats empty strings as unset and freezes the result', () => {
    const config = loadLocalConfig({ PORT: '', LOCAL_API_KEY: '', LOCAL_DATA_DIR: '' });
    expect(config).toMatchObject({ port: 3000, apiKey: DEFAULT_LOCAL_API_KEY, dataDir: '.data' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("keeps the local cloud's fault front off unless a rate is set, and reads its plan", () => {
    expect(loadLocalConfig({}).faults.rate).toBe(0);
    const { faults } = loadLocalConfig({
      LOCAL_FAULT_RATE: '0.05',
      LOCAL_FAULT_SEED: '1234',
      LOCAL_FAULT_KINDS: 'transaction-conflict, slow',
      LOCAL_FAULT_SLOW_MS: '250',
    });
    expect(faults).toEqual({ rate: 0.05, seed: 1234, kinds: ['transaction-conflict', 'slow'], slowMs: 250 });
    expect(() => loadLocalConfig({ LOCAL_FAULT_RATE: '5', LOCAL_FAULT_SEED: '-1' })).toThrow(
      /LOCAL_FAULT_RATE[\s\S]*LOCAL_FAULT_SEED/,
    );
  });

  it('lets per-service endpoints override AWS_ENDPOINT_URL', () => {
    const config = loadWorkerConfig({
      STATE_TABLE_NAME: 't',
      FLEET_QUEUE_URL: 'http://127.0.0.1:1/q',
      LAMBDA_QUEUE_URL: 'http://127.0.0.1:1/l',
      ARTIFACT_BUCKET_NAME: 'bucket',
      SESSION_TICKET_SECRET: 's'.repeat(32),
      WEBSOCKET_MANAGEMENT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
    });
    expect(config.aws.endpoints).toEqual({
      dynamodb: 'http://127.0.0.1:4566',
      sqs: 'http://127.0.0.1:4566',
      s3: 'http://127.0.0.1:9000',
      secretsManager: 'http://127.0.0.1:4566',
      ecs: 'http://127.0.0.1:4566',
    });
    expect(config.concurrency).toBe(2);
    expect(config.sessionSlots).toBe(4);
  });

  it('refuses a short session ticket secret, saying how to make one', () => {
    expect(() =>
      loadWsConfig({
        STATE_TABLE_NAME: 't',
        SESSION_TICKET_SECRET: 'short',
        WEBSOCKET_MANAGEMENT_URL: 'http://x',
      }),
    ).toThrow(/SESSION_TICKET_SECRET: must be at least 32 characters \(e\.g\. `openssl rand -hex 32`\)/);
  });
});
