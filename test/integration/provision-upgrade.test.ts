/**
 * A local cloud's data dir from before the task-history index existed (`npm start` keeps
 * its table across restarts): starting on it adds the index, as a CloudFormation update of
 * the table would, and tasks submitted from then on are listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/emulators.js';
import { createClient } from '../../ops/client/index.js';
import { resourceName, STATE_TABLE } from '../../shared/contracts.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

const dataDir = mkdtempSync(join(tmpdir(), 'bf-upgrade-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Two DynamoDB Local starts and a cloud: a loaded CI machine needs more than the default.
it('adds the task-history index to a table made before it, and lists new tasks', async () => {
  const { sweepIndex } = STATE_TABLE;
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const emulator = await startDynamoDbLocal({ port, dataDir: join(dataDir, 'dynamodb') });
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const stateTable = resourceName(STATE_TABLE.baseName, 'local');
  try {
    // The table as the previous release created it: the sweep index only.
    await dynamo.send(
      new CreateTableCommand({
        TableName: stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
          { AttributeName: sweepIndex.partitionKey, AttributeType: 'S' },
          { AttributeName: sweepIndex.sortKey, AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: sweepIndex.name,
            KeySchema: [
              { AttributeName: sweepIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: sweepIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } finally {
    dynamo.destroy();
    await emulator.stop();
  }

  const cloud = await startTestCloud({ dataDir, worker: false, lambdaTier: false, sweeper: false });
  try {
    expect(cloud.names.stateTable).toBe(stateTable);
    // A query of a missing index would fail the request: the list answering proves it is there.
    const client = createClient({
      baseUrl: cloud.url,
      apiKey: (await createTestTenant(cloud, 'upgraded')).key,
      maxAttempts: 1,
    });
    const task = await client.tasks.submit({ type: 'links', url: 'http://127.0.0.1:9/' });
    expect((await client.tasks.list()).tasks.map((t) => t.id)).toEqual([task.id]);
  } finally {
    await cloud.dispose();
  }
}, 120_000);
