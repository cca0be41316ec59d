/**
 * `npm start`: the platform on one machine. Composition root of the local cloud: the only
 * place here that reads the environment. Ctrl-C or SIGTERM stops everything it started.
 */
import { loadLocalConfig } from '../shared/config.js';
import { ENV } from '../shared/contracts.js';
import { startLocalCloud } from './cloud.js';

const config = loadLocalConfig(process.env);
const started = Date.now();
// Engine settings pass through to the functions, worker and sweeper, validated there.
const passThrough = [
  ENV.leaseMs,
  ENV.heartbeatMs,
  ENV.drainMs,
  ENV.retryBaseMs,
  ENV.retryCapMs,
  ENV.sweepIntervalMs,
  ENV.sweepResendAfterMs,
  ENV.sessionPendingTimeoutMs,
  ENV.idempotencyTtlSeconds,
  ENV.artifactUrlTtlSeconds,
  ENV.egressAllow,
  ENV.workerSessionSlots,
  ENV.sessionSpareBrowser,
];
const extraEnv = Object.fromEntries(
  passThrough.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
);
const cloud = await startLocalCloud({ ...config, extraEnv });

process.stdout.write(
  [
    '',
    `browserfleet is up at ${cloud.url} (${Date.now() - started} ms)`,
    `  API key:   ${cloud.apiKey}${process.env[ENV.localApiKey] ? '' : '  (default; set LOCAL_API_KEY to choose one)'}`,
    `  health:    curl ${cloud.url}/health`,
    `  sessions:  WebSocket API ${cloud.wsUrl}, CDP router ${cloud.cdpUrl}`,
    `  data:      ${config.dataDir}`,
    `  emulators: DynamoDB ${cloud.emulatorEndpoints.dynamodb}, SQS ${cloud.emulatorEndpoints.sqs}, S3 ${cloud.emulatorEndpoints.s3}`,
    cloud.iam === undefined
      ? '  IAM:       off (LOCAL_IAM=off): AWS calls are not judged by their roles'
      : '  IAM:       each part calls AWS as its own role from the CDK app (LOCAL_IAM=off turns it off)',
    ...(cloud.faults === undefined
      ? []
      : [
          `  faults:    ${config.faults.rate} of AWS calls, seed ${config.faults.seed} ` +
            `(LOCAL_FAULT_SEED=${config.faults.seed} repeats them), kinds ${config.faults.kinds?.join(',') ?? 'all'}`,
        ]),
    '',
  ].join('\n'),
);

/** A signal within this long of the first is the same Ctrl-C, relayed (see below). */
const SAME_SIGNAL_MS = 1_000;
let stoppingSince: number | undefined;
const shutdown = (signal: NodeJS.Signals) => {
  if (stoppingSince !== undefined) {
    // One Ctrl-C can arrive twice: from the terminal (to the whole process group) and
    // relayed by the launchers in front of this process (npm, tsx). Only a second press
    // doesn't wait: the emulators and Chromium are taken along as this process exits.
    if (Date.now() - stoppingSince < SAME_SIGNAL_MS) return;
    process.exit(130);
  }
  stoppingSince = Date.now();
  process.stdout.write(`\n${signal}: stopping browserfleet…\n`);
  if (cloud.faults !== undefined) {
    process.stdout.write(`faults injected: ${JSON.stringify(cloud.faults.counts())}\n`);
  }
  const denials = cloud.iam?.denials() ?? [];
  if (denials.length > 0) process.stdout.write(`IAM denials: ${JSON.stringify(denials)}\n`);
  void cloud.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
