import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root. Lambda entry files, the lock file and the worker image's build
 * context are found from here rather than from the working directory, so `cdk synth` and
 * the tests find the same files wherever they are started.
 */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
