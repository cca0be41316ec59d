/** Lost races in a row before giving up: each one means another writer made progress. */
const MAX_CONFLICTS = 8;

/** A store that writes a row only while it is still at the version read (tasks, sessions). */
export interface VersionedRows<T> {
  save(
    next: T,
    current: T,
  ): Promise<
    { saved: true } | { saved: false; current: T | undefined } | { saved: false; quotaExceeded: unknown }
  >;
}

/**
 * Changes an ended task's or session's webhook bookkeeping (outbox, deliveries) with a
 * conditional write on its version; on a lost race, applies `change` again to the row as
 * it stands. The state machines refuse every event on an ended row, so only this
 * bookkeeping ever moves it. `change` answers undefined when there is nothing to write.
 * Answers the row as written (or found), undefined when it is gone.
 */
export const updateEndedRow = async <T extends { id: string; version: number }>(
  store: VersionedRows<T>,
  from: T,
  change: (row: T) => T | undefined,
): Promise<T | undefined> => {
  let current = from;
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const next = change(current);
    if (next === undefined) return current;
    const saved = await store.save({ ...next, version: current.version + 1 }, current);
    if (saved.saved) return { ...next, version: current.version + 1 };
    if ('quotaExceeded' in saved || saved.current === undefined) return undefined;
    current = saved.current;
  }
  throw new Error(`${from.id} kept changing under its webhook bookkeeping.`);
};
