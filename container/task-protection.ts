/**
 * ECS task scale-in protection while the worker is busy: autoscaling may stop an idle
 * worker, never one running a task (its message was deleted at claim, so a SIGTERM means
 * a hand-back and a retry) or hosting a session a person is driving (a session can't move).
 * The ECS agent's endpoint (`$ECS_AGENT_URI/task-protection/v1/state`) takes the state;
 * protection expires on its own, so it is renewed while the worker is busy.
 *
 * Bounded for deployments: a protected task holds a rolling deployment until it lets go.
 * Once the worker sees its service's primary deployment run another task definition (it has
 * been superseded), it drops protection as soon as it is idle, and at the latest
 * SUPERSEDED_GRACE_MS later whatever it hosts; ECS then stops it (SIGTERM, the drain).
 */
import type { Clock } from '../shared/clock.js';

/** Protection lasts this long unless renewed (ECS allows up to 48 h). */
const EXPIRES_IN_MINUTES = 15;
/** Renewed well before it lapses. */
const RENEW_MS = 5 * 60_000;
/**
 * Idle this long before protection is dropped: tasks arrive in bursts, and a worker between
 * two tasks should not flap its protection (each change is a call to the agent).
 */
export const RELEASE_AFTER_IDLE_MS = 60_000;
/**
 * How long a superseded worker keeps protection for what it still hosts: long enough for a
 * task to end (deadlines are minutes) and for a short session to finish; a deployment waits
 * at most this, not a session's 6 h.
 */
export const SUPERSEDED_GRACE_MS = 15 * 60_000;

export interface ProtectionState {
  /** Tasks running plus sessions hosted. */
  busy: number;
  /** When `busy` last went to 0 (epoch ms), or undefined while busy. */
  idleSinceMs: number | undefined;
  /** When the worker learned its deployment was superseded, or undefined. */
  supersededAtMs: number | undefined;
}

/** Whether the worker should hold scale-in protection now. */
export const wantsProtection = (state: ProtectionState, nowMs: number): boolean => {
  if (state.supersededAtMs !== undefined) {
    if (state.busy === 0) return false;
    return nowMs - state.supersededAtMs < SUPERSEDED_GRACE_MS;
  }
  if (state.busy > 0) return true;
  return state.idleSinceMs !== undefined && nowMs - state.idleSinceMs < RELEASE_AFTER_IDLE_MS;
};

export interface TaskProtection {
  /** Call with tasks running plus sessions hosted, whenever it may have changed. */
  update(busy: number): void;
  /** The worker's service now deploys another task definition. */
  superseded(): void;
  stop(): void;
}

export const ecsTaskProtection = (
  agentUri: string,
  clock: Clock,
  log: (event: string, details: Record<string, unknown>) => void,
): TaskProtection => {
  const state: ProtectionState = { busy: 0, idleSinceMs: undefined, supersededAtMs: undefined };
  let protectedNow = false;
  let renew: NodeJS.Timeout | undefined;
  const put = async (enabled: boolean) => {
    try {
      const res = await fetch(`${agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ProtectionEnabled: enabled,
          ...(enabled ? { ExpiresInMinutes: EXPIRES_IN_MINUTES } : {}),
        }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (!res.ok) log('task protection refused', { enabled, status: res.status });
    } catch (error) {
      log('task protection failed', { enabled, error: String(error) });
    }
  };
  const apply = () => {
    const want = wantsProtection(state, clock.now());
    if (want === protectedNow) return;
    protectedNow = want;
    clearInterval(renew);
    log('task protection', {
      enabled: want,
      busy: state.busy,
      superseded: state.supersededAtMs !== undefined,
    });
    void put(want);
    if (want) renew = setInterval(() => void put(true), RENEW_MS);
  };
  return {
    update: (busy) => {
      if (busy === 0 && state.busy > 0) state.idleSinceMs = clock.now();
      if (busy > 0) state.idleSinceMs = undefined;
      state.busy = busy;
      apply();
    },
    superseded: () => {
      state.supersededAtMs ??= clock.now();
      apply();
    },
    stop: () => clearInterval(renew),
  };
};
