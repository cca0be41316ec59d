/**
 * The Idempotency-Keys `browserfleet run` sends, one per line of a batch file. A key names
 * what a line asks for, not where it sits: inserting, removing or moving other lines leaves
 * it unchanged, so running an edited file again still answers the tasks that already ran.
 */
import { createHash } from 'node:crypto';

/** The same JSON text for the same value, however the line spaced it or ordered its keys. */
export const normalizedBody = (body: unknown): string => JSON.stringify(sortedKeys(body));

const sortedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
};

/**
 * One key per body, in order: a hash of the scope, the normalized body and how many
 * identical bodies came before it in the file. Two identical lines are two tasks (the
 * second gets occurrence 1), and a line keeps its key wherever it moves as long as the
 * identical lines above it stay as many. `scope` keeps two batch files apart: the same
 * line in another file is another task. Deterministic, so the same file resumes.
 */
export const runKeys = (scope: string, bodies: readonly unknown[]): string[] => {
  const seen = new Map<string, number>();
  return bodies.map((body) => {
    const normalized = normalizedBody(body);
    const occurrence = seen.get(normalized) ?? 0;
    seen.set(normalized, occurrence + 1);
    const digest = createHash('sha256')
      .update(JSON.stringify([scope, occurrence, normalized]))
      .digest('hex')
      .slice(0, 40);
    return `bf-run-${digest}`;
  });
};
