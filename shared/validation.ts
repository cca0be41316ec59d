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
