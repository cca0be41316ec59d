/**
 * The whole browserfleet app for one stage: the state, API and fleet stacks, checked by
 * cdk-nag. `app.ts` calls it with CDK context; the tests call it directly.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { DEFAULT_CROSS_STACK_REFERENCES } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { z } from 'zod';
import { ApiStack } from './api-stack.js';
import { FleetStack } from './fleet-stack.js';
import { NetworkStack } from './network-stack.js';
import { ObservabilityStack } from './observability-stack.js';
import { SessionsStack } from './sessions-stack.js';
import { stageSchema } from './stage.js';
import { StateStack } from './state-stack.js';

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
  readonly fleet: FleetStack;
  readonly observability: ObservabilityStack;
}

export const buildApp = (options: BuildOptions, app: App = new App()): BrowserfleetApp => {
  const parsed = buildOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new Error(`Invalid CDK context:\n${z.prettifyError(parsed.error)}`);
  }
  const { stage, alarmTopicArn, alarmEmail } = parsed.data;

  // Strong references (exports/imports) between the stacks, said explicitly: CloudFormation
  // then refuses to delete state that a stateless stack still uses. Set here rather than in
  // cdk.json so the tests, which build the app without the CLI, synthesize the same thing.
  if (app.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(DEFAULT_CROSS_STACK_REFERENCES, 'strong');
  }

  Tags.of(app).add('project', 'browserfleet');
  Tags.of(app).add('stage', stage);

  // Environment-agnostic stacks: they synthesize offline, without credentials or lookups,
  // and deploy to whichever account and region the CLI is pointed at.
  const state = new StateStack(app, `browserfleet-${stage}-state`, { stage });
  const shared = { stage, table: state.table, fleetQueue: state.fleetQueue, lambdaQueue: state.lambdaQueue };
  const network = new NetworkStack(app, `browserfleet-${stage}-network`, { stage });
  const sessions = new SessionsStack(app, `browserfleet-${stage}-sessions`, {
    stage,
    table: state.table,
    vpc: network.vpc,
    inboxCallers: network.inboxCallers,
    ticketSecret: network.ticketSecret,
  });
  const fleet = new FleetStack(app, `browserfleet-${stage}-fleet`, {
    ...shared,
    vpc: network.vpc,
    inboxCallers: network.inboxCallers,
    ticketSecret: network.ticketSecret,
    webSocketStage: sessions.webSocketStage,
  });
  const api = new ApiStack(app, `browserfleet-${stage}-api`, {
    ...shared,
    vpc: network.vpc,
    inboxCallers: network.inboxCallers,
    ticketSecret: network.ticketSecret,
    webSocketStage: sessions.webSocketStage,
    cdpPublicUrl: fleet.cdpPublicUrl,
  });
  sessions.addStackDependency(state);
  // Also implied by the table and queue references; said outright because the artifact
  // bucket is referenced by name, which CDK can't see.
  api.addStackDependency(state);
  fleet.addStackDependency(state);

  const observability = new ObservabilityStack(app, `browserfleet-${stage}-observability`, {
    stage,
    fleetQueue: state.fleetQueue,
    lambdaQueue: state.lambdaQueue,
    fleetDeadLetterQueue: state.fleetDeadLetterQueue,
    lambdaDeadLetterQueue: state.lambdaDeadLetterQueue,
    fleetService: fleet.service,
    httpStage: api.httpStage,
    cdpTargetGroup: fleet.cdpTargetGroup,
    alarmTopicArn,
    alarmEmail,
  });

  // cdk-nag 3 is a policy-validation plugin: it runs at synthesis and fails it on any
  // finding that is not acknowledged (Validations.of(construct).acknowledge, with a reason).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

  return { app, state, network, sessions, api, fleet, observability };
};
