/**
 * A live session's commands: run one at a time, in the order they arrive (there is one
 * page), each parsed by its entry in the command table and answered with a `result` or an
 * `error` — never thrown: a client's bad command must not end anyone's session.
 */

import type { Clock } from '../clock.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CommandOutcome, ServerMessage, SessionBrowser } from './ports.js';
import type { SessionStatus } from './session.js';
import { type CommandContext, SESSION_COMMANDS, type SessionCommand } from './session-commands.js';
import type { StoredDownloads } from './session-downloads.js';
import type { CommandMessage, CommandMethod } from './session-input.js';
import { mapWsError } from './ws-errors.js';

export interface CommandRunnerDeps {
  clock: Clock;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  metrics: Metrics;
  log: (event: string, details: Record<string, unknown>) => void;
}

/** The session as a command finds it when its turn comes. */
export interface CommandTarget {
  sessionId: string;
  status: SessionStatus;
  browser: SessionBrowser | undefined;
}

/** Parses `raw` with the method's own schema and runs it: the handler sees its own params. */
const runTyped = <M extends CommandMethod>(method: M, raw: unknown, context: CommandContext) => {
  const command: SessionCommand<M> = SESSION_COMMANDS[method];
  const parsed = command.params.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `params.${issue?.path.map(String).join('.') || '(params)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return command.run(context, parsed.data);
};

export class SessionCommandRunner {
  private queue: Promise<void> = Promise.resolve();
  /** The session's downloaded files stored so far: each is stored once, whoever asks again. */
  private readonly storedDownloads: StoredDownloads = new Map();

  constructor(
    private readonly deps: CommandRunnerDeps,
    /** Read when the command's turn comes, not when it arrives. */
    private readonly target: () => CommandTarget,
    /** Called as a command starts and as it ends: commands count as activity. */
    private readonly touch: () => void,
  ) {}

  /** Queues `command`; `answer` is given its result or error message once it has run. */
  enqueue(
    command: CommandMessage,
    answer: (message: Extract<ServerMessage, { type: 'result' | 'error' }>) => Promise<void>,
  ): void {
    this.queue = this.queue.then(async () => {
      const message = await this.run(command);
      this.touch();
      await answer(message);
    });
  }

  /**
   * Queues `command` like any other (a call waits its turn behind the WebSocket clients'
   * commands, and they behind it) and answers its outcome once it has run.
   */
  call(command: CommandMessage): Promise<CommandOutcome> {
    return new Promise((resolve) => {
      this.enqueue(command, async (answer) => {
        resolve(
          answer.type === 'result'
            ? { ok: true, result: answer.result }
            : { ok: false, error: { code: answer.error.code, message: answer.error.message } },
        );
      });
    });
  }

  private async run(command: CommandMessage): Promise<Extract<ServerMessage, { type: 'result' | 'error' }>> {
    const { deps } = this;
    const started = performance.now();
    this.touch();
    const { sessionId, status, browser } = this.target();
    try {
      if (browser === undefined || status !== 'live') {
        throw new BrowserfleetError(
          ERROR_CODES.SESSION_NOT_LIVE,
          `Session ${sessionId} is ${status}, not live yet.`,
        );
      }
      const result = await runTyped(command.method, command.params, {
        browser,
        sessionId,
        commandId: command.id,
        timeoutMs: command.timeoutMs,
        artifacts: deps.artifacts,
        artifactUrlTtlSeconds: deps.artifactUrlTtlSeconds,
        now: () => deps.clock.now(),
        storedDownloads: this.storedDownloads,
      });
      const ms = Math.round(performance.now() - started);
      deps.metrics.count('SessionCommands', 1, { method: command.method, outcome: 'ok' });
      deps.metrics.timing('SessionCommandMs', ms, { method: command.method });
      return { type: 'result', id: command.id, result: result ?? null, ms };
    } catch (error) {
      deps.metrics.count('SessionCommands', 1, { method: command.method, outcome: 'error' });
      // The WebSocket transport's one table decides what a client is shown (ws-errors.ts).
      const { error: shown } = mapWsError(error, (hidden) =>
        deps.log('session command failed', { sessionId, error: String(hidden) }),
      );
      return { type: 'error', id: command.id, error: shown };
    }
  }
}
