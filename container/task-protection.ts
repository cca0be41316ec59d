/**
 * ECS task scale-in protection while the worker hosts live sessions: autoscaling may stop
 * an idle worker, but not one with a session a person is driving (a session can't move).
 * The ECS agent's endpoint (`$ECS_AGENT_URI/task-protection/v1/state`) takes the state;
 * protection expires on its own, so it is renewed while sessions last.
 */

/** Protection lasts this long unless renewed (ECS allows up to 48 h). */
const EXPIRES_IN_MINUTES = 60;
/** Renewed well before it lapses. */
const RENEW_MS = 20 * 60_000;

export interface TaskProtection {
  /** Call with the number of sessions hosted whenever it changes. */
  update(sessions: number): void;
  stop(): void;
}

export const ecsTaskProtection = (
  agentUri: string,
  log: (event: string, details: Record<string, unknown>) => void,
): TaskProtection => {
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
  return {
    update: (sessions) => {
      const want = sessions > 0;
      if (want === protectedNow) return;
      protectedNow = want;
      clearInterval(renew);
      void put(want);
      if (want) renew = setInterval(() => void put(true), RENEW_MS);
    },
    stop: () => clearInterval(renew),
  };
};
