/**
 * A Lambda layer with @sparticuz/chromium's compressed binaries (`bin/`), taken from the
 * installed package: the runner's bundle carries the package's code, the layer its 60 MB
 * of Brotli archives, which it unpacks into /tmp on the first launch of an environment.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** Where a layer's files land in the function's file system. */
export const CHROMIUM_LAYER_BIN_DIR = '/opt';

export const chromiumLayer = (scope: Construct): LayerVersion => {
  // The package exports only its entry point, so resolve that and walk up to the package.
  const require = createRequire(import.meta.url);
  let packageDir = dirname(require.resolve('@sparticuz/chromium'));
  while (!existsSync(join(packageDir, 'bin'))) packageDir = dirname(packageDir);
  return new LayerVersion(scope, 'ChromiumLayer', {
    code: Code.fromAsset(join(packageDir, 'bin')),
    compatibleRuntimes: [Runtime.NODEJS_22_X],
    compatibleArchitectures: [Architecture.X86_64],
    description: 'Compressed Chromium binaries of @sparticuz/chromium',
  });
};
