/**
 * The local cloud's fault front: each fault arrives in AWS's own wire shape, so the real SDK
 * raises the very exception it raises on AWS and retries what it retries there; a refused
 * request never reaches the emulator, a slow one does, whole; the same seed gives the same
 * faults. The "emulator" here is a stub that counts what reaches it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultFront,
  type FaultPlan,
  startFaultFront,
  startFaultFronts,
} from '../../local/fault-front.js';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { BrowserfleetError } from '../../shared/errors.js';

let upstream: Server;
let upstreamUrl: string;
let hits: { target: string; body: string }[] = [];

/** Minimal valid answers of each protocol, recording every request that got here. */
const answer = (req: IncomingMessage, body: string) => {
  const target = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`);
  hits.push({ target, body });
  if (target.startsWith('DynamoDB_20120810.')) return { type: 'application/x-amz-json-1.0', body: '{}' };
  if (target.startsWith('AmazonSQS.')) {
    return {
      type: 'application/x-amz-json-1.0',
      body: JSON.stringify({ QueueUrl: 'http://q/000000000000/q' }),
    };
  }
  return { type: 'application/xml', body: '' };
};

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = answer(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, {
        'content-type': a.type,
        etag: '"abc"',
        'content-length': Buffer.byteLength(a.body),
      });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

const fronts: FaultFront[] = [];
afterEach(async () => {
  await Promise.all(fronts.splice(0).map((f) => f.stop()));
  hits = [];
});

const front = async (service: 'dynamodb' | 'sqs' | 's3', plan: Partial<FaultPlan>) => {
  const f = await startFaultFront({
    service,
    target: upstreamUrl,
    plan: { rate: 1, seed: 7, slowMs: 100, ...plan },
  });
  fronts.push(f);
  return f;
};

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const clientConfig = (endpoint: string, maxAttempts: number) => ({
  region: 'us-east-1',
  endpoint,
  credentials,
  maxAttempts,
});

const transaction = (items: number) =>
  new TransactWriteCommand({
    TransactItems: Array.from({ length: items }, (_, i) => ({
      Put: { TableName: 't', Item: { pk: `P#${i}`, sk: 'S' } },
    })),
  });

/** What the SDK raised for one call through `f`, and how many sends it made. */
const failure = async (call: () => Promise<unknown>) => {
  const error = (await call().then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { $metadata?: { attempts?: number; httpStatusCode?: number }; code?: string }) | undefined;
  if (error === undefined) throw new Error('the call succeeded');
  return error;
};

describe('fault front', () => {
  it('answers a BatchGetItem in part: the last key forwarded never, named unprocessed; one key goes whole', async () => {
    const f = await front('dynamodb', { kinds: ['unprocessed-keys'] });
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(f.endpoint, 1)));
    const a = { pk: 'A', sk: 'S' };
    const b = { pk: 'B', sk: 'S' };
    const keys = [a, b];
    const out = await doc.send(new BatchGetCommand({ RequestItems: { t: { Keys: keys } } }));
    expect(out.UnprocessedKeys).toEqual({ t: { Keys: [b] } });
    expect(JSON.parse(hits[0]?.body ?? '{}').RequestItems.t.Keys).toEqual([
      { pk: { S: 'A' }, sk: { S: 'S' } },
    ]);
    // A batch of one key can't be answered in part, and other reads never are.
    const one = await doc.send(new BatchGetCommand({ RequestItems: { t: { Keys: [a] } } }));
    expect(one.UnprocessedKeys).toBeUndefined();
    await doc.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'A' }, sk: { S: 'S' } } }));
    expect(hits.map((h) => h.target)).toEqual([
      'DynamoDB_20120810.BatchGetItem',
      'DynamoDB_20120810.BatchGetItem',
      'DynamoDB_20120810.GetItem',
    ]);
    expect(f.counts().faults).toEqual({ 'dynamodb.unprocessed-keys': 1 });
    doc.destroy();
  });

  it('cancels a TransactWriteItems for a conflict as DynamoDB does, without forwarding it', async () => {
    const f = await front('dynamodb', { kinds: ['transaction-conflict'] });
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(f.endpoint, 1)));
    const error = await failure(() => doc.send(transaction(3)));
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    expect(reasons).toHaveLength(3);
    expect(reasons.filter((r) => r.Code === 'TransactionConflict')).toHaveLength(1);
    expect(reasons.filter((r) => r.Code === 'None')).toHaveLength(2);
    expect(error.message).toMatch(/^Transaction cancelled, please refer cancellation reasons/);
    // Only transactions conflict: a GetItem through the same front is forwarded.
    await doc.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'P#0' }, sk: { S: 'S' } } }));
    expect(hits.map((h) => h.target)).toEqual(['DynamoDB_20120810.GetItem']);
    expect(f.counts()).toEqual({ requests: 2, faults: { 'dynamodb.transaction-conflict': 1 } });
    doc.destroy();
  });

  it.each([
    ['dynamodb', 'throughput-exceeded', 'ProvisionedThroughputExceededException', 400],
    ['dynamodb', 'throttling', 'ThrottlingException', 400],
    ['dynamodb', 'internal-error', 'InternalServerError', 500],
    ['sqs', 'throttling', 'RequestThrottled', 403],
    ['sqs', 'internal-error', 'InternalFailure', 500],
    ['s3', 'slow-down', 'SlowDown', 503],
    ['s3', 'internal-error', 'InternalError', 500],
  ] as const)(
    '%s %s arrives as %s (HTTP %i), which the SDK retries, and nothing is forwarded',
    async (service, kind, name, status) => {
      const f = await front(service, { kinds: [kind] });
      const config = clientConfig(f.endpoint, 2);
      const error = await failure(() => {
        if (service === 'dynamodb') {
          return new DynamoDBClient(config).send(
            new GetItemCommand({ TableName: 't', Key: { pk: { S: 'P' }, sk: { S: 'S' } } }),
          );
        }
        if (service === 'sqs') return new SQSClient(config).send(new GetQueueUrlCommand({ QueueName: 'q' }));
        return new S3Client({ ...config, forcePathStyle: true }).send(
          new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'x' }),
        );
      });
      expect(error.name).toBe(name);
      expect(error.$metadata?.httpStatusCode).toBe(status);
      // Sent twice: the SDK classed it as throttling or transient, as it does on AWS.
      expect(error.$metadata?.attempts).toBe(2);
      expect(hits).toEqual([]);
      expect(f.counts().faults).toEqual({ [`${service}.${kind}`]: 2 });
    },
  );

  it.each([
    // (DynamoDB's client makes 10 attempts with backoff: too slow for here; the unit test covers it.)
    ['sqs', 'throttling', 'THROTTLED'],
    ['sqs', 'internal-error', 'DEPENDENCY_UNAVAILABLE'],
    ['s3', 'slow-down', 'THROTTLED'],
  ] as const)(
    "the platform's clients hand a %s %s that outlasted the SDK's retries on as %s (a 503, retried), with the SDK's error as cause",
    async (service, kind, code) => {
      const f = await front(service, { kinds: [kind] });
      const clients = createAwsClients({ endpoints: { [service]: f.endpoint } });
      try {
        const error = await failure(() => {
          if (service === 'sqs') return clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }));
          return clients.s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'x' }));
        });
        expect(error).toBeInstanceOf(BrowserfleetError);
        expect((error as BrowserfleetError).code).toBe(code);
        expect(((error as BrowserfleetError).cause as Error).name).toMatch(
          /Throttl|SlowDown|InternalFailure/,
        );
      } finally {
        destroyAwsClients(clients);
      }
    },
    60_000,
  );

  it('answers a refused HEAD without a body, as S3 does', async () => {
    const f = await front('s3', { kinds: ['slow-down'] });
    const error = await failure(() =>
      new S3Client({ ...clientConfig(f.endpoint, 1), forcePathStyle: true }).send(
        new HeadObjectCommand({ Bucket: 'bucket', Key: 'k' }),
      ),
    );
    expect(error.$metadata?.httpStatusCode).toBe(503);
    expect(hits).toEqual([]);
  });

  it('a connection reset before forwarding is a network error the SDK retries; nothing reaches the emulator', async () => {
    const f = await front('dynamodb', { kinds: ['connection-reset'] });
    const error = await failure(() =>
      new DynamoDBClient(clientConfig(f.endpoint, 2)).send(
        new GetItemCommand({ TableName: 't', Key: { pk: { S: 'P' }, sk: { S: 'S' } } }),
      ),
    );
    expect(error.code ?? error.name).toMatch(/ECONNRESET|socket hang up/);
    expect(error.$metadata?.attempts).toBe(2);
    expect(hits).toEqual([]);
  });

  it('a slow answer is held, then the request is forwarded whole and answered', async () => {
    const f = await front('dynamodb', { kinds: ['slow'], slowMs: 300 });
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(f.endpoint, 1)));
    await doc.send(transaction(2));
    expect(hits).toHaveLength(1);
    expect(JSON.parse(hits[0]?.body ?? '{}').TransactItems).toHaveLength(2);
    expect(f.counts().faults).toEqual({ 'dynamodb.slow': 1 });
    doc.destroy();
  });

  it('the same seed gives the same faults in the same order; rate 0 forwards everything', async () => {
    const outcomes = async (seed: number, rate: number) => {
      const f = await front('s3', { seed, rate, kinds: ['slow-down', 'internal-error'] });
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await fetch(`${f.endpoint}/bucket/k${i}`)).status);
      return statuses;
    };
    const first = await outcomes(42, 0.3);
    expect(await outcomes(42, 0.3)).toEqual(first);
    expect(await outcomes(43, 0.3)).not.toEqual(first);
    // About the configured share refused, both kinds among them.
    const refused = first.filter((s) => s !== 200);
    expect(refused.length).toBeGreaterThan(6);
    expect(refused.length).toBeLessThan(30);
    expect(new Set(refused)).toEqual(new Set([500, 503]));
    expect((await outcomes(42, 0)).every((s) => s === 200)).toBe(true);
  });

  it('refuses an unknown kind at start, naming the known ones', async () => {
    await expect(
      startFaultFronts(
        { dynamodb: upstreamUrl, sqs: upstreamUrl, s3: upstreamUrl },
        {
          rate: 0.1,
          seed: 1,
          slowMs: 10,
          kinds: ['throtling'],
        },
      ),
    ).rejects.toThrow(/unknown kinds throtling \(known: transaction-conflict/);
  });
});
