/**
 * The app as `cdk synth` builds it, for assertion tests: each stage's app in a temporary
 * output directory, without bundling (bundles don't change the templates' shape), and every
 * stack's template. `dispose` removes the output directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import { type BrowserfleetApp, buildApp } from '../../cdk/build-app.js';
import type { Stage } from '../../cdk/stage.js';

/** A synth of every stage's app takes tens of seconds on a loaded 2-core machine. */
export const SYNTH_TIMEOUT_MS = 120_000;

export type BuiltStage = BrowserfleetApp & { stage: Stage };

export interface Synthesized {
  apps: BuiltStage[];
  /** Every stack of every app, as templates. */
  templates: { stack: string; template: Template }[];
  dispose(): void;
}

export const synthStages = (
  stages: readonly Stage[],
  prefix: string,
  props: Omit<Parameters<typeof buildApp>[0], 'stage'> = {},
): Synthesized => {
  const outdirs: string[] = [];
  const apps = stages.map((stage): BuiltStage => {
    const outdir = mkdtempSync(join(tmpdir(), `browserfleet-cdk-${prefix}-`));
    outdirs.push(outdir);
    const context = { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false, 'aws:cdk:bundling-stacks': [] };
    return { ...buildApp({ ...props, stage }, new App({ outdir, context })), stage };
  });
  const templates = apps.flatMap((built) =>
    built.app.node
      .findAll()
      .filter(Stack.isStack)
      .map((stack) => ({ stack: stack.stackName, template: Template.fromStack(stack) })),
  );
  return {
    apps,
    templates,
    dispose: () => {
      for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
    },
  };
};
