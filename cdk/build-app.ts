/**
 * This repository's CDK app for one stage: a thin user of the `Browserfleet` construct
 * (cdk/browserfleet.ts), checked by cdk-nag. `app.ts` calls it with CDK context; the tests
 * call it directly.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import type { ApiStack } from './api-stack.js';
import { Browserfleet } from './browserfleet.js';
import type { EngineStack } from './engine-stack.js';
import type { FleetStack } from './fleet-stack.js';
import type { NetworkStack } from './network-stack.js';
import type { ObservabilityStack } from './observability-stack.js';
import type { SessionsStack } from './sessions-stack.js';
import { stageSchema } from './stage.js';
import type { StateStack } from './state-stack.js';

export const buildOptionsSchema = z.object({
  stage: stageSchema.default('dev'),
  /** An existing SNS topic every alarm notifies; without one, the app creates a topic. */
  alarmTopicArn: z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN')
    .optional(),
  /** An address the created alarm topic emails (confirmed once, from the first mail). */
  alarmEmail: z.email().optional(),
});

export type BuildOptions = z.input<typeof buildOptionsSchema>;

export interface BrowserfleetApp {
  readonly app: App;
  readonly state: StateStack;
  readonly network: NetworkStack;
  readonly sessions: SessionsStack;
  readonly api: ApiStack;
  readonly engine: EngineStack;
  readonly fleet: FleetStack;
  readonly observability: ObservabilityStack;
}

/** This repository's app: CDK context (validated) in, the Browserfleet construct out. */
export const buildApp = (options: BuildOptions, app: App = new App()): BrowserfleetApp => {
  const parsed = buildOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new Error(`Invalid CDK context:\n${z.prettifyError(parsed.error)}`);
  }
  const { stage, alarmTopicArn, alarmEmail } = parsed.data;
  const fleet = new Browserfleet(app, 'Browserfleet', {
    stage,
    ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
  });
  // cdk-nag 3 is a policy-validation plugin: it runs at synthesis and fails it on any
  // finding that is not acknowledged (Validations.of(construct).acknowledge, with a reason).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, ...fleet.stacks };
};
