/**
 * The session domain's import boundary: shared/session/ holds use cases and ports, so it
 * reaches no adapter, no SDK and no Puppeteer (they come in through its ports), and of
 * shared/task/ only the modules that are not use cases (ports, input schemas, quota errors).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SESSION_DIR = join(ROOT, 'shared/session');
/** shared/task/ modules that are not use cases, so a session file may import them. */
const TASK_MODULES_ALLOWED = [
  'shared/task/ports.ts',
  'shared/task/task-input.ts',
  'shared/task/quota-errors.ts',
];
const PACKAGES_ALLOWED = ['zod', 'node:crypto'];

/** Every `from '…'` / `import('…')` of a file, relative ones as repo paths (`shared/x.ts`). */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)].map(([, spec = '']) =>
    spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec,
  );

const sessionFiles = readdirSync(SESSION_DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(SESSION_DIR, f));

describe('the session domain imports', () => {
  it('finds the session files and their imports (the check below is not vacuous)', () => {
    expect(sessionFiles.length).toBeGreaterThan(10);
    expect(importsOf(join(SESSION_DIR, 'host-session.ts'))).toContain('shared/session/hosted-session.ts');
  });

  it.each(sessionFiles.map((f) => [relative(ROOT, f), f]))(
    '%s: no adapter, SDK, Puppeteer or task use case',
    (_, file) => {
      const imports = importsOf(file);
      expect(imports.filter((i) => i.startsWith('shared/adapters/'))).toEqual([]);
      expect(
        imports.filter((i) => i.startsWith('shared/task/') && !TASK_MODULES_ALLOWED.includes(i)),
      ).toEqual([]);
      expect(imports.filter((i) => !i.startsWith('shared/') && !PACKAGES_ALLOWED.includes(i))).toEqual([]);
      expect(readFileSync(file, 'utf8')).not.toMatch(/process\.env/);
    },
  );
});
