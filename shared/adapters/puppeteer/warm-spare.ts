/**
 * One thing launched ahead of need (a session's browser: see session-launcher.ts), handed
 * out once and never again. Taking it starts nothing; the taker calls `warm()` once it is
 * done with its own start, so the replacement's launch doesn't compete with it for CPU. A
 * spare that goes away on its own (a crash, a kill) is discarded and replaced; one that is
 * found dead when taken is discarded and the taker launches its own. After `close()` none
 * is kept, and one still launching is discarded as soon as it is up.
 */

export interface WarmSpareOptions<T> {
  launch(): Promise<T>;
  /** Whether it can still be handed out: its process runs and its connection is open. */
  alive(spare: T): boolean;
  /** Calls `gone` (at most once) when the spare goes away on its own. */
  watch(spare: T, gone: () => void): void;
  /** Closes it and removes what it left on disk; never throws. */
  discard(spare: T): Promise<void>;
  log(event: string, details: Record<string, unknown>): void;
}

/**
 * Spares that die on their own before anyone takes them are replaced this many times in a
 * row, then no more until one is taken: a Chromium that crashes at every start must not
 * become a launch loop.
 */
const MAX_REPLACEMENTS_UNTAKEN = 3;

export class WarmSpare<T> {
  /** Launching or ready; `undefined` once it resolves to nothing (failed, gone, closed). */
  private next: Promise<T | undefined> | undefined;
  private closed = false;
  private replacements = 0;

  constructor(private readonly options: WarmSpareOptions<T>) {}

  /** Starts a spare unless one is launching or ready (or the spare is closed). */
  warm(): void {
    if (this.closed || this.next !== undefined) return;
    const launching: Promise<T | undefined> = this.options.launch().then(
      async (spare) => {
        if (this.closed) {
          await this.options.discard(spare);
          return undefined;
        }
        this.options.watch(spare, () => void this.gone(spare, launching));
        return spare;
      },
      (error: unknown) => {
        this.options.log('session spare launch failed', { error: String(error) });
        if (this.next === launching) this.next = undefined;
        return undefined;
      },
    );
    this.next = launching;
  }

  /**
   * The spare, if one is ready or launching (a launch under way is nearer its end than a
   * new one would be) and still alive; `undefined` when the taker should launch its own.
   * Whatever the answer, the spare is no longer this one's: the caller calls `warm()`.
   */
  async take(): Promise<T | undefined> {
    const next = this.next;
    this.next = undefined;
    this.replacements = 0;
    const spare = await next;
    if (spare === undefined) return undefined;
    if (this.closed || !this.options.alive(spare)) {
      this.options.log('session spare discarded', { reason: this.closed ? 'closed' : 'not alive' });
      await this.options.discard(spare);
      return undefined;
    }
    return spare;
  }

  /** Discards the spare (waiting for one still launching) and keeps none from now on. */
  async close(): Promise<void> {
    this.closed = true;
    const next = this.next;
    this.next = undefined;
    const spare = await next;
    if (spare !== undefined) await this.options.discard(spare);
  }

  private async gone(spare: T, launched: Promise<T | undefined>): Promise<void> {
    // Taken already: it is a session's browser now, and its end is the session's to handle.
    if (this.next !== launched) return;
    this.next = undefined;
    this.options.log('session spare gone before use', {
      replacing: this.replacements < MAX_REPLACEMENTS_UNTAKEN,
    });
    await this.options.discard(spare);
    if (this.replacements >= MAX_REPLACEMENTS_UNTAKEN) return;
    this.replacements++;
    this.warm();
  }
}
