/**
 * A live session's screencast over its own CDP session on the page: Chromium's frames,
 * acked as they come, plus one keyframe of the page as it is when the stream starts.
 */
import type { CDPSession, Page } from 'puppeteer-core';
import type { ScreencastFrame, ScreencastOptions } from '../../session/ports.js';
import { withDeadline } from './command-deadline.js';

/** A keyframe waits for the page's next paint; mid-navigation that can take a moment, not more. */
const KEYFRAME_TIMEOUT_MS = 3_000;

/** A screenshot shaped like a screencast frame: JPEG, scaled down to the caps, CSS-pixel size. */
const captureKeyframe = async (
  session: CDPSession,
  caps: { quality: number; maxWidth: number; maxHeight: number },
): Promise<ScreencastFrame> => {
  const { cssVisualViewport: v } = await session.send('Page.getLayoutMetrics');
  const scale = Math.min(1, caps.maxWidth / v.clientWidth, caps.maxHeight / v.clientHeight);
  const { data } = await session.send('Page.captureScreenshot', {
    format: 'jpeg',
    quality: caps.quality,
    clip: { x: v.pageX, y: v.pageY, width: v.clientWidth, height: v.clientHeight, scale },
    optimizeForSpeed: true,
  });
  return { data, width: v.clientWidth, height: v.clientHeight, timestamp: Date.now() / 1000 };
};

/**
 * One screencast at a time, on whichever page the session is on: started there, and moved
 * to the new one when the session's active tab changes (`follow`).
 */
export class CdpScreencast {
  private session: CDPSession | undefined;
  /** What the running screencast was asked for, to start it again on another page. */
  private running: { options: ScreencastOptions; onFrame: (frame: ScreencastFrame) => void } | undefined;

  constructor(private readonly page: () => Page) {}

  async start(options: ScreencastOptions, onFrame: (frame: ScreencastFrame) => void): Promise<void> {
    if (this.session !== undefined) return;
    this.running = { options, onFrame };
    const session = await this.page().createCDPSession();
    this.session = session;
    session.on('Page.screencastFrame', (event) => {
      // Ack at once: Chromium sends the next frame only after the previous one is acked.
      void session.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => {});
      onFrame({
        data: event.data,
        width: event.metadata.deviceWidth,
        height: event.metadata.deviceHeight,
        timestamp: event.metadata.timestamp ?? Date.now() / 1000,
      });
    });
    await session.send('Page.startScreencast', {
      format: 'jpeg',
      quality: options.quality,
      maxWidth: options.maxWidth,
      maxHeight: options.maxHeight,
      everyNthFrame: 1,
    });
    // The first frame: the page as it is now, in the screencast's own format and size caps.
    const keyframe = await withDeadline(
      // The keyframe is a courtesy to a new viewer: the stream's next frame follows anyway.
      captureKeyframe(session, options),
      KEYFRAME_TIMEOUT_MS,
      'keyframe',
    ).catch(() => undefined);
    if (keyframe !== undefined && this.session === session) onFrame(keyframe);
  }

  /** The session's page changed: a running screencast moves there (its keyframe first). */
  async follow(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    await this.detach();
    // Stopped meanwhile (its last viewer left): nothing to move.
    if (this.running !== running) return;
    // The viewers' stream goes on from the new page; one that cannot start there (the page
    // closed meanwhile) waits for the next change of tab.
    await this.start(running.options, running.onFrame).catch(() => {
      this.session = undefined;
    });
  }

  async stop(): Promise<void> {
    this.running = undefined;
    await this.detach();
  }

  private async detach(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    // Both fail only once the page or browser is gone, which ends the screencast anyway.
    await session.send('Page.stopScreencast').catch(() => {});
    await session.detach().catch(() => {});
  }
}
