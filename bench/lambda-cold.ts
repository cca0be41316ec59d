/**
 * The Lambda tier's cold start: a new process → its first task's result, in the Lambda-like
 * sandbox (test/support/lambda-sandbox.ts) with the function's own handler, as the event
 * source mapping would invoke it. What runs is one esbuild bundle of the sandbox's entry and
 * the handler, built as cdk/node-function.ts builds the deployed function (ESM, minified,
 * every package inside), not TypeScript compiled by tsx as the process starts. Chromium is
 * already unpacked into the environment's /tmp by an earlier process in the same sandbox,
 * so the figure is the process start, loading the bundle, Chromium's launch and one
 * screenshot task. The clock starts in the sandbox's shell just before it execs the timed
 * Node process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { stageChromiumLayer } from '../cdk/chromium-layer.js';
import { ENV, LAMBDA_RUNNER } from '../shared/contracts.js';
import type { apiClient } from '../test/support/fixtures.js';
import { lambdaSandboxUnavailable, runInLambdaSandbox } from '../test/support/lambda-sandbox.js';
import type { Pinning } from './pinning.js';
import { MEASURED_CORE } from './pinning.js';
import { VIEWPORT } from './workload.js';

const RESULT_PREFIX = 'BF-SANDBOX-RESULT ';
const STARTED_PREFIX = 'BENCH-STARTED-AT ';
/** Unpacking Chromium into an empty /tmp and a cold start, on a busy machine. */
const SANDBOX_TIMEOUT_MS = 120_000;
const ENTRY = 'test/support/lambda-sandbox-entry.ts';
/** Where the bundle is built: the bench's own, ignored directory (the sandbox can read it). */
const BUNDLE = join('.bench', 'lambda-sandbox-entry.mjs');
/**
 * What Node runs: a module that imports the bundle, as Lambda's runtime imports a handler.
 * Run as the main module itself, the bundle would take itself for font-set.ts run as a
 * script (that file's main check compares import.meta.url, which the bundle shares).
 */
const MAIN = join('.bench', 'lambda-main.mjs');

const bundleEntry = async (): Promise<void> => {
  mkdirSync('.bench', { recursive: true });
  writeFileSync(MAIN, "await import('./lambda-sandbox-entry.mjs');\n");
  await build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'error',
    // Bundled CommonJS packages (puppeteer-core's) call require: ESM has none of its own.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
};

/**
 * The sandbox's script: unpack in one process, then time a new one from its exec. The
 * sandbox's setpriv kills this shell when the bench dies; its own setpriv does the same
 * for the unpacking child.
 */
const SCRIPT = `set -eu
/usr/bin/setpriv --pdeathsig KILL -- "$BENCH_NODE" ${MAIN} unpack >&2
echo "${STARTED_PREFIX}$(date +%s%3N)"
exec "$BENCH_NODE" ${MAIN} invoke "$@"`;

export interface LambdaCold {
  /** Per run: exec of the new process → the handler answered its first task. */
  coldMs: number[];
  /** Per run: the handler's own time for that task (Chromium launch included). */
  handlerMs: number[];
  peakMemoryMb: number | undefined;
}

/** Why the cold start can't be measured here, or undefined when it can. */
export const lambdaColdUnavailable = lambdaSandboxUnavailable;

export const measureLambdaCold = async (options: {
  api: ReturnType<typeof apiClient>;
  url: string;
  /** The Lambda runner's environment (its IAM role's credentials on the local cloud). */
  env: Record<string, string>;
  runs: number;
  pinning: Pinning;
}): Promise<LambdaCold> => {
  const layerDir = stageChromiumLayer();
  await bundleEntry();
  const result: LambdaCold = { coldMs: [], handlerMs: [], peakMemoryMb: undefined };
  for (let i = 0; i < options.runs; i++) {
    const submitted = await options.api.submit({
      type: 'screenshot',
      tier: 'lambda',
      url: options.url,
      options: { viewport: VIEWPORT },
    });
    if (submitted.status !== 202) {
      throw new Error(`lambda task refused: HTTP ${submitted.status} ${JSON.stringify(submitted.body)}`);
    }
    const taskId = submitted.body.id as string;
    const run = await runInLambdaSandbox({
      command: options.pinning.onCores(MEASURED_CORE, ['/bin/sh', '-c', SCRIPT, 'cold', taskId]),
      env: {
        ...options.env,
        [ENV.chromiumBinDir]: '/opt',
        // As the deployed function's configuration has it (cdk/node-function.ts).
        NODE_OPTIONS: '--enable-source-maps',
        BENCH_NODE: process.execPath,
      },
      functionName: LAMBDA_RUNNER.functionName,
      memoryMb: LAMBDA_RUNNER.memoryMb,
      layerDir,
      cwd: process.cwd(),
      timeoutMs: SANDBOX_TIMEOUT_MS,
    });
    const line = (prefix: string) =>
      run.stdout
        .split('\n')
        .find((l) => l.startsWith(prefix))
        ?.slice(prefix.length);
    const startedAt = Number(line(STARTED_PREFIX));
    const answer = JSON.parse(line(RESULT_PREFIX) ?? '{}') as {
      answers?: { response: { batchItemFailures: unknown[] }; ms: number; endedAt: number }[];
    };
    const first = answer.answers?.[0];
    if (first === undefined || first.response.batchItemFailures.length > 0 || Number.isNaN(startedAt)) {
      throw new Error(
        `the Lambda sandbox gave no result (exit ${run.code}): ${run.stdout.slice(-1000)}\n${run.stderr.slice(-3000)}`,
      );
    }
    const task = await options.api.get(taskId);
    if (task.body.status !== 'succeeded') {
      throw new Error(`lambda task ${taskId} ended ${task.body.status}: ${JSON.stringify(task.body.error)}`);
    }
    result.coldMs.push(first.endedAt - startedAt);
    result.handlerMs.push(first.ms);
    result.peakMemoryMb = Math.max(result.peakMemoryMb ?? 0, run.peakMemoryMb ?? 0) || undefined;
  }
  return result;
};
