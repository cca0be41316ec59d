/**
 * The role policies of the CDK app as it stands, synthesized in this process.
 *
 * Synthesis costs seconds and many test files start a cloud, so the policies are cached
 * in a file keyed by a hash of what they are built from (cdk/, the contracts, the
 * aws-cdk-lib version): a changed grant synthesizes afresh, an unchanged tree reads JSON.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { type RolePolicySet, rolePoliciesFromTemplates, SYNTH_STAGE, type Template } from './iam-policies.js';

const ROOT = resolvePath(import.meta.dirname, '..');

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });

/** What the policies are built from: a change to any of it is a new cache entry. */
const sourceHash = (): string => {
  const hash = createHash('sha256');
  const files = [
    ...filesUnder(join(ROOT, 'cdk')),
    join(ROOT, 'shared/contracts.ts'),
    join(ROOT, 'local/iam-policies.ts'),
    join(ROOT, 'local/synthesized-policies.ts'),
    join(ROOT, 'node_modules/aws-cdk-lib/package.json'),
  ].sort();
  for (const file of files) {
    hash.update(file.slice(ROOT.length));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
};

/** Synthesizes the app in this process, without bundling the functions (same templates). */
export const synthesizeRolePolicies = async (): Promise<RolePolicySet> => {
  const [{ App }, { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT }, { buildApp }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/cx-api'),
    import('../cdk/build-app.js'),
  ]);
  const outdir = mkdtempSync(join(tmpdir(), 'browserfleet-iam-synth-'));
  try {
    const app = new App({
      outdir,
      // cdk-nag's findings are the CDK tests' to report; bundling isn't needed for IAM.
      context: {
        [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false,
        'aws:cdk:bundling-stacks': [],
        // Names each function's construct path (`Fn-<name>`), as `cdk synth` does.
        'aws:cdk:enable-path-metadata': true,
      },
    });
    const built = buildApp({ stage: SYNTH_STAGE }, app);
    const assembly = built.app.synth();
    const templates = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as Template]));
    return rolePoliciesFromTemplates(templates);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};

const CACHE_DIR = join(ROOT, 'node_modules/.cache/browserfleet-iam');

/**
 * The role policies of the app as `cdk/` stands now: from the file cache when its sources
 * haven't changed since they were synthesized, else synthesized (and cached).
 */
export const loadRolePolicies = async (): Promise<RolePolicySet> => {
  const file = join(CACHE_DIR, `policies-${sourceHash()}.json`);
  try {
    if (statSync(file).isFile()) return JSON.parse(readFileSync(file, 'utf8')) as RolePolicySet;
  } catch {
    // Not cached yet.
  }
  const set = await synthesizeRolePolicies();
  mkdirSync(CACHE_DIR, { recursive: true });
  // Written aside, then renamed: a concurrent reader sees the whole file or none.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(set));
  renameSync(partial, file);
  return set;
};
