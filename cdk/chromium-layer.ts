/**
 * The Lambda tier's layer: @sparticuz/chromium's compressed binaries (`bin/` → `/opt`),
 * which it unpacks into /tmp on the first launch of an environment, and the platform's font
 * set (`fonts/` → `/opt/fonts`, where the launcher looks first), staged from the same npm
 * packages `npm start` and the fleet image use. The runner's bundle carries only code.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { REPO_ROOT } from './repo-root.js';

/** Where a layer's files land in the function's file system. */
export const CHROMIUM_LAYER_BIN_DIR = '/opt';

/** Lambda's limit for a function and all its layers, unzipped. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** Where the layer's contents are assembled at synth time (kept between synths). */
const LAYER_STAGING_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'browserfleet-chromium-layer');

const sparticuzBinDir = (): string => {
  // The package exports only its entry point, so resolve that and walk up to the package.
  const require = createRequire(import.meta.url);
  let packageDir = dirname(require.resolve('@sparticuz/chromium'));
  while (!existsSync(join(packageDir, 'bin'))) packageDir = dirname(packageDir);
  return join(packageDir, 'bin');
};

/** Bytes under `dir`, as the layer unzips them. */
export const directoryBytes = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(dir, entry.name);
    return sum + (entry.isDirectory() ? directoryBytes(path) : statSync(path).size);
  }, 0);

const sameFile = (a: string, b: string): boolean => {
  const [sa, sb] = [statSync(a), statSync(b)];
  return sa.size === sb.size && Math.trunc(sa.mtimeMs) === Math.trunc(sb.mtimeMs);
};

/** Assembles the layer's directory: Chromium's archives at the root, the font set in fonts/. */
export const stageChromiumLayer = (): string => {
  mkdirSync(LAYER_STAGING_DIR, { recursive: true });
  // Copies in progress live beside the staging dir, never in it: a parallel synth packaging
  // the layer copies the dir, and a `.part` that is renamed away under it fails the copy.
  const partsDir = `${LAYER_STAGING_DIR}.parts`;
  mkdirSync(partsDir, { recursive: true });
  const bin = sparticuzBinDir();
  for (const file of readdirSync(bin)) {
    const source = join(bin, file);
    const target = join(LAYER_STAGING_DIR, file);
    // Test files synthesize in parallel, and the Lambda sandbox test mounts this directory:
    // an unchanged file is left alone, a changed one replaced whole (copy, then rename).
    if (existsSync(target) && sameFile(source, target)) continue;
    const part = join(partsDir, `${file}.${process.pid}.part`);
    cpSync(source, part, { preserveTimestamps: true });
    renameSync(part, target);
  }
  // The staging code decodes WOFF2 asynchronously; synth is synchronous, so it runs as its
  // own Node process (Node 22 runs the TypeScript file as it is).
  execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'shared', 'adapters', 'fonts', 'font-set.ts'), join(LAYER_STAGING_DIR, 'fonts')],
    { stdio: 'inherit' },
  );
  return LAYER_STAGING_DIR;
};

export const chromiumLayer = (scope: Construct): LayerVersion => {
  const dir = stageChromiumLayer();
  return new LayerVersion(scope, 'ChromiumLayer', {
    code: Code.fromAsset(dir),
    compatibleRuntimes: [Runtime.NODEJS_22_X],
    compatibleArchitectures: [Architecture.X86_64],
    description: 'Compressed Chromium binaries of @sparticuz/chromium, and the platform font set',
  });
};
