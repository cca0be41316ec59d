/** Fakes for unit tests of the task use cases: pure logic, no AWS, no Chromium. */

import type { ArtifactReader, ArtifactStore } from '../../shared/core/artifact-store.js';
import type { FleetMessage, ReceivedMessage, TaskQueue } from '../../shared/core/fleet-queue.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { abortReasonToError } from '../../shared/task/abort-reason.js';
import type { BrowserJob, BrowserOutput, BrowserRunner } from '../../shared/task/ports.js';

export class FakeQueue implements TaskQueue {
  readonly sent: { message: FleetMessage; delaySeconds: number }[] = [];
  async send(message: FleetMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    this.sent.push({ message, delaySeconds: options.delaySeconds ?? 0 });
  }
  async receive(): Promise<ReceivedMessage[]> {
    return [];
  }
  async delete(): Promise<void> {}
}

/** Objects in memory; a presigned URL is a `data:` URL of the object, so it downloads too. */
export class FakeArtifacts implements ArtifactStore, ArtifactReader {
  readonly objects = new Map<string, Uint8Array>();
  private readonly types = new Map<string, string>();
  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, body);
    this.types.set(key, contentType);
  }
  async presignGet(key: string): Promise<string> {
    const body = this.objects.get(key);
    // S3 presigns any key; fetching a missing one fails, as a data: URL of nothing can't.
    if (body === undefined) return `data:text/plain,missing:${encodeURIComponent(key)}`;
    return `data:${this.types.get(key)};base64,${Buffer.from(body).toString('base64')}`;
  }
  async read(key: string, maxBytes: number) {
    const body = this.objects.get(key);
    if (body === undefined)
      throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Artifact ${key} does not exist.`);
    return {
      body: body.subarray(0, maxBytes),
      contentType: this.types.get(key) ?? 'application/octet-stream',
      truncated: body.length > maxBytes,
    };
  }
}

export type Behaviour = (job: BrowserJob, signal: AbortSignal) => Promise<BrowserOutput>;

export const succeedWith =
  (label: string): Behaviour =>
  async (job) => ({
    artifacts: [{ name: 'screenshot.png', contentType: 'image/png', body: new TextEncoder().encode(label) }],
    finalUrl: job.url,
    httpStatus: 200,
    timings: { launchMs: 0, navigationMs: 1, captureMs: 1 },
    browserMs: 2,
  });

export const throwCode =
  (code: keyof typeof ERROR_CODES): Behaviour =>
  async () => {
    throw new BrowserfleetError(ERROR_CODES[code], `fake ${code}`);
  };

/** Runs until its signal fires, then fails as the real runner does. */
export const hang: Behaviour = (_job, signal) =>
  new Promise((_resolve, reject) => {
    if (signal.aborted) reject(abortReasonToError(signal));
    signal.addEventListener('abort', () => reject(abortReasonToError(signal)), { once: true });
  });

/** Waits for `gate` (ignoring the signal, like a wedged page), then succeeds. */
export const succeedAfter =
  (gate: Promise<void>, label: string): Behaviour =>
  async (job, signal) => {
    await gate;
    return succeedWith(label)(job, signal);
  };

export class FakeBrowser implements BrowserRunner {
  calls = 0;
  constructor(private readonly behaviours: Behaviour[] = []) {}
  run(job: BrowserJob, signal: AbortSignal): Promise<BrowserOutput> {
    this.calls++;
    const behaviour = this.behaviours.shift() ?? succeedWith('default');
    return behaviour(job, signal);
  }
  async close(): Promise<void> {}
}

export const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};
