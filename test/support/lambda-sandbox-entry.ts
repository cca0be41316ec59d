/**
 * What runs inside the Lambda-like sandbox (see lambda-sandbox.ts), started as
 * `node --import tsx test/support/lambda-sandbox-entry.ts <mode> …`. It prints one line
 * `BF-SANDBOX-RESULT <json>` for the test to read; everything else is log.
 *
 * - `probe`: what the sandbox looks like from inside (user, writable paths, /dev/shm).
 * - `invoke <taskId>…`: the Lambda tier's real handler, one SQS event per task, in turn,
 *   as the event source mapping calls one warm execution environment.
 * - `flags <extra flag>…`: the project's launcher with extra Chromium flags; two isolated
 *   browser contexts at once, each takes a screenshot.
 * - `unpack`: what an earlier process leaves in the environment's /tmp: Chromium unpacked
 *   from the layer (and, under tsx, its cache of the handler's modules). A bench's cold
 *   start then times `invoke` alone.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, SQSEvent } from 'aws-lambda';

const RESULT_PREFIX = 'BF-SANDBOX-RESULT ';
const report = (value: unknown): void => {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(value)}\n`);
};

const canWrite = (path: string): boolean => {
  try {
    writeFileSync(join(path, `.bf-probe-${process.pid}`), 'x');
    return true;
  } catch {
    return false;
  }
};

const probe = () => ({
  uid: process.getuid?.(),
  gid: process.getgid?.(),
  cwdWritable: canWrite(process.cwd()),
  rootWritable: canWrite('/'),
  tmpWritable: canWrite('/tmp'),
  devShmWritable: canWrite('/dev/shm'),
  optWritable: canWrite('/opt'),
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
});

const invoke = async (taskIds: string[]) => {
  const { handler } = await import('../../functions/sqs-run-task.js');
  const answers: unknown[] = [];
  for (const taskId of taskIds) {
    const started = Date.now();
    const event = {
      Records: [
        {
          messageId: `m-${taskId}`,
          receiptHandle: 'r',
          body: JSON.stringify({ taskId }),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:lambda',
          awsRegion: 'us-east-1',
        },
      ],
    } as unknown as SQSEvent;
    const context = {
      awsRequestId: randomUUID(),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'sqs-run-task',
      getRemainingTimeInMillis: () => 120_000 - (Date.now() - started),
    } as Context;
    const response = await handler(event, context);
    // `endedAt` on the wall clock, for a bench that times from before this process started.
    answers.push({ taskId, response, ms: Date.now() - started, endedAt: Date.now() });
  }
  return answers;
};

const flags = async (extraArgs: string[]) => {
  const { closeChromium, launchChromium } = await import(
    '../../shared/adapters/puppeteer/launch-chromium.js'
  );
  const started = Date.now();
  const launched = await launchChromium({
    hostEnv: process.env,
    extraArgs,
    chromiumBinDir: process.env.CHROMIUM_BIN_DIR,
  });
  const launchMs = Date.now() - started;
  try {
    const shots = await Promise.all(
      [0, 1].map(async (i) => {
        const context = await launched.browser.createBrowserContext();
        try {
          const page = await context.newPage();
          await page.setContent(`<h1>context ${i} 你好 😀</h1><script>document.cookie = 'c=${i}'</script>`);
          const png = await page.screenshot();
          return { bytes: png.byteLength };
        } finally {
          await context.close();
        }
      }),
    );
    return { ok: true, launchMs, shots };
  } finally {
    await closeChromium(launched);
  }
};

const unpack = async () => {
  await import('../../functions/sqs-run-task.js');
  const { default: chromium } = await import('@sparticuz/chromium');
  // As the launcher does: no graphics stack, so no SwiftShader archive to unpack.
  chromium.setGraphicsMode = false;
  return { ok: true, executablePath: await chromium.executablePath(process.env.CHROMIUM_BIN_DIR) };
};

const [mode = 'probe', ...args] = process.argv.slice(2);
try {
  if (mode === 'probe') report(probe());
  else if (mode === 'invoke') report({ probe: probe(), answers: await invoke(args) });
  else if (mode === 'flags') report(await flags(args));
  else if (mode === 'unpack') report(await unpack());
  else throw new Error(`Unknown mode ${mode}`);
  process.exit(0);
} catch (error) {
  report({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
}
