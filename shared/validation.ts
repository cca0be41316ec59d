/** Turns a zod failure into the one validation error shape: each field named with its rule. */
import type { z } from 'zod';
import { BrowserfleetError, ERROR_CODES } from './errors.js';

export interface FieldIssue {
  field: string;
  message: string;
}

const fieldOf = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(body)' : path.map(String).join('.');

export const toFieldIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: fieldOf([...issue.path, key]),
        message: 'is not a recognized field',
      }));
    }
    return [{ field: fieldOf(issue.path), message: issue.message }];
  });

/** Parses `input` with `schema` or throws `VALIDATION_FAILED` naming every bad field. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, input: unknown): z.output<S> => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = toFieldIssues(parsed.error);
  throw new BrowserfleetError(
    ERROR_CODES.VALIDATION_FAILED,
    issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    { details: { issues } },
  );
};

/**
 * How deep a request's JSON may nest. DynamoDB stores at most 32 levels in an item (a task's
 * options sit a few levels down in its row), and schema checks walk values recursively: a
 * 10 KB body of 6,000 nested arrays would overflow the stack there, a 500 instead of a 400.
 */
export const MAX_JSON_DEPTH = 24;

/** The nesting depth of a parsed JSON value (a scalar is 0), measured without recursion. */
export const jsonDepth = (value: unknown, stopAfter = Number.POSITIVE_INFINITY): number => {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    const inner = depth + 1;
    if (inner > deepest) deepest = inner;
    if (deepest > stopAfter) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, inner]);
  }
  return deepest;
};

/** Throws `VALIDATION_FAILED` when `value` nests deeper than `MAX_JSON_DEPTH`. */
export const assertJsonDepth = (value: unknown, field = '(body)'): void => {
  if (jsonDepth(value, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH) return;
  const message = `must not nest deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`;
  throw new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, `${field}: ${message}`, {
    details: { issues: [{ field, message }] },
  });
};
