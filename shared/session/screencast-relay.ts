/**
 * One hosted session's screencast: started while someone watches, stopped when nobody
 * does, and its frames paced to the viewers' frame rate and fanned out to each of them.
 */
import type { Cancel, SchedulingClock } from '../clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ScreencastFrame, ScreencastOptions, ServerMessage, SessionBrowser } from './ports.js';
import type { ScreencastMessage } from './session-input.js';

/** A frame (plus its JSON envelope) must fit one API Gateway message. */
const MAX_FRAME_BASE64 = 120 * 1024;

export interface ScreencastRelayDeps {
  sessionId: string;
  /** The session's browser, once it is up. */
  browser: () => SessionBrowser | undefined;
  /** `true` once the session is ending: no frame is sent or held then. */
  ending: () => boolean;
  /** Paces frames and schedules a held one. */
  clock: Pick<SchedulingClock, 'now' | 'after'>;
  send: (connectionId: string, message: ServerMessage) => Promise<void>;
  metrics: Metrics;
  log: (event: string, details: Record<string, unknown>) => void;
}

export class ScreencastRelay {
  /** Connections that asked for the screencast. */
  private readonly watching = new Set<string>();
  private options: ScreencastOptions | undefined;
  private frameSeq = 0;
  private lastFrameAt = 0;
  /** A frame held back by the frame-rate cap, sent when the interval is up (the last state always shows). */
  private heldFrame: ScreencastFrame | undefined;
  private cancelHeld: Cancel | undefined;
  /**
   * Screencast starts and stops, one at a time: a viewer that reloads sends its old
   * connection's detach and its new one's `screencast` at once, and interleaved they could
   * stop the stream the other just started.
   */
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ScreencastRelayDeps) {}

  /** A client's `screencast` message: it starts (or stops) watching; the stream restarts. */
  request(connectionId: string, message: ScreencastMessage): void {
    if (message.enabled) {
      this.watching.add(connectionId);
      const { action: _a, enabled: _e, ...options } = message;
      this.options = options;
    } else {
      this.watching.delete(connectionId);
    }
    this.sync(true);
  }

  /** A client detached: the stream stops if it was the last viewer. */
  leave(connectionId: string): void {
    this.watching.delete(connectionId);
    this.sync(false);
  }

  /** A client found gone: no more frames for it. */
  forget(connectionId: string): void {
    this.watching.delete(connectionId);
  }

  /** The session is ending: a held frame is not sent, its timer cancelled. */
  stop(): void {
    this.cancelHeld?.();
    this.cancelHeld = undefined;
    this.heldFrame = undefined;
  }

  private sync(restart: boolean): void {
    this.changes = this.changes.then(() => this.apply(restart));
  }

  private async apply(restart: boolean): Promise<void> {
    const browser = this.deps.browser();
    if (browser === undefined) return;
    if (this.watching.size === 0 || this.options === undefined) {
      // Stopping fails only with a browser that is already gone: nothing is streaming then.
      await browser.stopScreencast().catch(() => {});
      return;
    }
    // As above; the start below reports its own failure.
    if (restart) await browser.stopScreencast().catch(() => {});
    const options = this.options;
    const interval = 1000 / options.maxFps;
    await browser
      .startScreencast(options, (frame) => {
        // Frames over one API Gateway message are dropped (quality and size caps keep them rare).
        if (frame.data.length > MAX_FRAME_BASE64) return;
        // Ending (the browser still closing): nothing is sent, or held on a timer the end
        // would never cancel.
        if (this.deps.ending()) return;
        const wait = this.lastFrameAt + interval - this.deps.clock.now();
        if (wait <= 0) return this.emit(frame);
        // The frame-rate cap: hold the newest frame and send it when the interval is up, so
        // the picture never stays on a stale frame when the page stops changing.
        this.heldFrame = frame;
        this.cancelHeld ??= this.deps.clock.after(wait, () => {
          this.cancelHeld = undefined;
          const held = this.heldFrame;
          this.heldFrame = undefined;
          if (held !== undefined && !this.deps.ending() && this.watching.size > 0) this.emit(held);
        });
      })
      .catch((error: unknown) =>
        this.deps.log('screencast failed', { sessionId: this.deps.sessionId, error: String(error) }),
      );
  }

  private emit(frame: ScreencastFrame): void {
    this.lastFrameAt = this.deps.clock.now();
    this.frameSeq++;
    this.deps.metrics.count('ScreencastFrames', 1);
    const message: ServerMessage = {
      type: 'frame',
      sessionId: this.deps.sessionId,
      seq: this.frameSeq,
      data: frame.data,
      metadata: { width: frame.width, height: frame.height, timestamp: frame.timestamp },
    };
    for (const c of this.watching) void this.deps.send(c, message);
  }
}
