/**
 * The last line of defence of a process that runs many tenants' work (the fleet worker, a
 * warm Lambda-tier environment). Node's default for an unhandled rejection or an uncaught
 * exception is to exit at once, which drops every task and session the process holds for
 * one tenant's bad luck.
 *
 * - An unhandled rejection is a promise somebody forgot to await: state is intact, so it is
 *   logged with its stack and counted, and the process goes on.
 * - An uncaught exception may have left state half-changed: it is logged and counted, then
 *   the process drains (no new work; work in flight finishes or is handed back) and exits
 *   non-zero, so its supervisor (ECS, Lambda, `npm start`) replaces it. A second one while
 *   draining exits at once.
 */

export interface ProcessGuardOptions {
  log: (event: string, details: Record<string, unknown>) => void;
  /** Counts `ProcessFaults` by kind. */
  count?: (kind: 'unhandledRejection' | 'uncaughtException') => void;
  /** Stops taking work and lets what runs finish (bounded by its own drain time). */
  drain: () => Promise<void>;
  /** How the process ends after draining (tests replace it). */
  exit?: (code: number) => void;
}

const describe = (error: unknown): Record<string, unknown> =>
  error instanceof Error
    ? { error: error.message, name: error.name, stack: error.stack }
    : { error: String(error) };

/** Installs the policy on `process`; answers a function that removes it. */
export const installProcessGuard = (options: ProcessGuardOptions): (() => void) => {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let draining = false;
  const onRejection = (reason: unknown) => {
    options.count?.('unhandledRejection');
    options.log('unhandled rejection (kept running)', describe(reason));
  };
  const onException = (error: unknown) => {
    options.count?.('uncaughtException');
    options.log('uncaught exception (draining, then exiting)', describe(error));
    if (draining) return exit(1);
    draining = true;
    options.drain().then(
      () => exit(1),
      () => exit(1),
    );
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
};
