/**
 * What a bench run started, stopped on every way out: the end of the run, a failure, Ctrl-C
 * (SIGINT) or SIGTERM. Each resource is registered as it starts and stopped once, newest
 * first, so a failed run leaves no DynamoDB Local, Chromium, worker or temp dir behind.
 */
export class Cleanup {
  private readonly stops: { name: string; resource: unknown; stop: () => unknown }[] = [];
  private running: Promise<void> | undefined;
  /** Stops under way through `release`: the end of the run waits for them too. */
  private readonly releasing = new Set<Promise<unknown>>();

  /** Registers `stop` for the resource just started; answers the resource, for chaining. */
  add<T>(name: string, resource: T, stop: (resource: T) => unknown): T {
    this.stops.push({ name, resource, stop: () => stop(resource) });
    return resource;
  }

  /** Stops `resource` now (once done with it), rather than at the end. */
  async release(resource: unknown): Promise<void> {
    const at = this.stops.findIndex((entry) => entry.resource === resource);
    if (at < 0) return;
    const [entry] = this.stops.splice(at, 1);
    const stopping = Promise.resolve(entry?.stop());
    this.releasing.add(stopping);
    try {
      await stopping;
    } finally {
      this.releasing.delete(stopping);
    }
  }

  /** Stops everything registered, newest first; a stop that fails is reported, not fatal. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          process.stderr.write(`bench: stopping ${name} failed: ${String(error)}\n`);
        }
      }
      await Promise.allSettled(this.releasing);
    })();
    return this.running;
  }

  /**
   * Runs `main`, then cleans up and exits: 0 when it finished, 1 when it threw, 128+n on
   * a signal (a second signal exits at once).
   */
  async main(main: () => Promise<void>): Promise<never> {
    const onSignal = (signal: NodeJS.Signals, code: number) => {
      process.once(signal, () => process.exit(code));
      process.stderr.write(`\nbench: ${signal}, stopping what the run started…\n`);
      void this.run().then(() => process.exit(code));
    };
    process.once('SIGINT', () => onSignal('SIGINT', 130));
    process.once('SIGTERM', () => onSignal('SIGTERM', 143));
    let code = 0;
    try {
      await main();
    } catch (error) {
      process.stderr.write(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      code = 1;
    }
    await this.run();
    process.exit(code);
  }
}
