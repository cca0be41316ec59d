/**
 * The Lambda tier's handler as the SQS event source mapping calls it, with real Chromium
 * and the emulators: a task still running shortly before the invocation's deadline is
 * handed back (queued again, not counted against maxAttempts, the record reported done) instead of being
 * cut off, and the next invocation, on the same warm browser, finishes it.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHandler,
  createLambdaRunnerDeps,
  HAND_BACK_MARGIN_MS,
  type LambdaRunnerDeps,
} from '../../functions/sqs-run-task.js';
import type { PuppeteerBrowserRunner } from '../../shared/adapters/puppeteer/browser-runner.js';
import { loadLambdaRunnerConfig } from '../../shared/config.js';
import { LAMBDA_RUNNER } from '../../shared/contracts.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let deps: LambdaRunnerDeps;

beforeAll(async () => {
  site = await startFixtureServer({ '/warm': '<h1>warm</h1>' });
  // No Lambda tier of the cloud's own: this test is the event source mapping.
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
  deps = createLambdaRunnerDeps(
    loadLambdaRunnerConfig({ ...cloud.roleEnv(LAMBDA_RUNNER.functionName), WORKER_ID: 'lambda-test' }),
  );
  // A warm execution environment, as the second of many invocations finds it: the cold
  // Chromium launch would otherwise eat into the first invocation's short budget.
  const warmUp = await apiClient(cloud.url, TEST_API_KEY).submit({
    type: 'content',
    tier: 'lambda',
    url: `${site.url}/warm`,
  });
  await invoke(warmUp.body.id, 60_000);
});
afterAll(async () => {
  await deps?.run.browser.close();
  await cloud?.dispose();
  await site?.close();
});

const browserPids = () => (deps.run.browser as PuppeteerBrowserRunner).browserPids();

const invoke = (taskId: string, remainingMs: number) => {
  const deadline = Date.now() + remainingMs;
  const event = {
    Records: [
      {
        messageId: `m-${taskId}`,
        receiptHandle: 'r',
        body: JSON.stringify({ taskId }),
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:lambda',
        awsRegion: 'us-east-1',
      },
    ],
  } as unknown as SQSEvent;
  const context = { getRemainingTimeInMillis: () => deadline - Date.now() } as Context;
  return buildHandler(deps)(event, context);
};

describe('Lambda tier handler', () => {
  it('hands a task back shortly before the Lambda deadline, not counted against maxAttempts', async () => {
    const api = apiClient(cloud.url, TEST_API_KEY);
    // Slow the first time only: the handed-back task then finishes on the next invocation.
    const submitted = await api.submit({
      type: 'screenshot',
      tier: 'lambda',
      url: `${site.url}/slow?ms=20000&once=handback`,
      maxAttempts: 1,
    });
    const id = submitted.body.id as string;

    // An invocation with the margin plus 2 s left: the browser work gets about 2 s.
    const started = Date.now();
    const first = await invoke(id, HAND_BACK_MARGIN_MS + 2_000);
    const took = Date.now() - started;
    expect(first).toEqual({ batchItemFailures: [] });
    expect(took).toBeLessThan(HAND_BACK_MARGIN_MS + 2_000);
    const handedBack = (await api.get(id)).body;
    expect(handedBack.status).toBe('queued');
    expect(handedBack.history.at(-1)).toMatchObject({
      worker: expect.stringMatching(/^lambda-/),
      outcome: 'handed-back',
    });

    const warm = browserPids();
    expect(warm).toHaveLength(1);

    // maxAttempts is 1, yet it runs again: a hand-back is not a failed attempt.
    const second = await invoke(id, 60_000);
    expect(second).toEqual({ batchItemFailures: [] });
    expect((await api.get(id)).body.status).toBe('succeeded');
    // On the same browser, kept warm between invocations.
    expect(browserPids()).toEqual(warm);
  }, 60_000);
});
