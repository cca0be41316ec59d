/**
 * `npm run dlq -- inspect|redrive [--queue fleet|lambda|webhooks] [--max N] [--local]`:
 * look at a queue's dead-letter queue (a task tier's, or the webhook events'), or move its
 * messages back to the queue; a redriven webhook event starts its attempts over. Queues are
 * found by name from the contracts for `STAGE` (AWS credentials and region from the
 * environment), or with `--local` in the local cloud `npm start` runs. `--tier` is the
 * older name of `--queue`.
 */

import { parseArgs } from 'node:util';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { SqsDeadLetterQueues } from '../shared/adapters/sqs-dead-letter-queues.js';
import { ENV, QUEUES, resourceName } from '../shared/contracts.js';
import {
  inspectDeadLetters,
  redriveDeadLetters,
  restartWebhookAttempts,
} from '../shared/dlq/dead-letters.js';

const USAGE = 'usage: npm run dlq -- inspect|redrive [--queue fleet|lambda|webhooks] [--max N] [--local]';
const QUEUE_NAMES = ['fleet', 'lambda', 'webhooks'] as const;
const fail = (message: string): never => {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
};

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        queue: { type: 'string' },
        tier: { type: 'string' },
        max: { type: 'string', default: '100' },
        local: { type: 'boolean' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const command = positionals[0];
if (command !== 'inspect' && command !== 'redrive') fail(`Unknown command: ${command ?? '(none)'}`);
const queueName = values.queue ?? values.tier ?? 'fleet';
const queue = QUEUE_NAMES.find((q) => q === queueName) ?? fail('--queue must be fleet, lambda or webhooks');
const max = Number(values.max);
if (!Number.isInteger(max) || max < 1 || max > 10_000) fail('--max must be an integer from 1 to 10000');

const env = z
  .object({
    [ENV.stage]: z.string().default('dev'),
    // Unset: the SDK's own region resolution (AWS_REGION, then the profile's region).
    [ENV.awsRegion]: z.string().optional(),
    [ENV.awsEndpointUrl]: z.url().optional(),
    AWS_ENDPOINT_URL_SQS: z.url().optional(),
    [ENV.port]: z.coerce.number().int().default(3000),
  })
  .parse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
const local = values.local === true;
const stage = local ? 'local' : env[ENV.stage];
const endpoint = local
  ? `http://127.0.0.1:${env[ENV.port] + 2}`
  : (env.AWS_ENDPOINT_URL_SQS ?? env[ENV.awsEndpointUrl]);
const clients = createAwsClients({ region: env[ENV.awsRegion], endpoints: { sqs: endpoint } });
const urlOf = async (baseName: string) =>
  (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: resourceName(baseName, stage) }))).QueueUrl ??
  '';

try {
  const names = QUEUES[queue];
  const dlq = new SqsDeadLetterQueues(
    clients.sqs,
    await urlOf(names.dlqBaseName),
    await urlOf(names.baseName),
  );
  const result =
    command === 'inspect'
      ? await inspectDeadLetters(dlq, max)
      : await redriveDeadLetters(dlq, max, queue === 'webhooks' ? restartWebhookAttempts : undefined);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  destroyAwsClients(clients);
}
