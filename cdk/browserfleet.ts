/**
 * The browserfleet platform as one construct a team adds to its own CDK app:
 *
 * ```ts
 * new Browserfleet(app, 'Browserfleet', {
 *   stage: 'prod',
 *   alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
 *   cdpTls: { certificate, domainName: 'cdp.example.com' },
 *   apiDomain: { certificate, domainName: 'api.example.com' },
 *   sessionsDomain: { certificate, domainName: 'sessions.example.com' },
 *   vpc: { vpc: teamVpc }, // private subnets behind NAT, by default
 * });
 * ```
 *
 * It makes the seven stacks of one stage (state, network, sessions, fleet, API, engine,
 * observability; `browserfleet-<stage>-*`), each a deployment unit, stateful resources in
 * their own. This repository's app (cdk/app.ts, cdk/build-app.ts) is a thin user of it.
 */
import { type Environment, type Stack, Tags } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { DEFAULT_CROSS_STACK_REFERENCES } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { ApiStack } from './api-stack.js';
import type { CustomDomain } from './custom-domain.js';
import { EngineStack } from './engine-stack.js';
import { FleetStack } from './fleet-stack.js';
import { type ExistingVpc, NetworkStack } from './network-stack.js';
import { ObservabilityStack } from './observability-stack.js';
import { SessionsStack } from './sessions-stack.js';
import type { Stage } from './stage.js';
import { StateStack } from './state-stack.js';
import { secretAsISecret, tableAsITable } from './upcasts.js';

export interface BrowserfleetProps {
  readonly stage: Stage;
  /** Account and region of every stack; unset, they deploy where the CLI points. */
  readonly env?: Environment;
  /** An existing SNS topic every alarm notifies; without one, a topic is created. */
  readonly alarmTopicArn?: string;
  /** An address the created alarm topic emails (confirmed once, from the first mail). */
  readonly alarmEmail?: string;
  /**
   * TLS for CDP: `cdpUrl`s become `wss://<domainName>/…`, the load balancer listens on 443
   * with `certificate` (ACM, in the fleet's region), and plain port 80 is closed. Point
   * `domainName` at the fleet stack's `CdpLoadBalancerDns` output.
   */
  readonly cdpTls?: { readonly certificate: ICertificate; readonly domainName: string };
  /**
   * Run in the team's own VPC (with subnets for the functions and the workers) instead of
   * creating one. The CDP load balancer takes the VPC's public subnets.
   */
  readonly vpc?: ExistingVpc;
  /** Serve the HTTP API at `https://<domainName>` (ACM certificate in the API's region). */
  readonly apiDomain?: CustomDomain;
  /** Serve the WebSocket API at `wss://<domainName>`; `websocketUrl`s then name it. */
  readonly sessionsDomain?: CustomDomain;
}

export class Browserfleet extends Construct {
  readonly stacks: {
    readonly state: StateStack;
    readonly network: NetworkStack;
    readonly sessions: SessionsStack;
    readonly api: ApiStack;
    readonly engine: EngineStack;
    readonly fleet: FleetStack;
    readonly observability: ObservabilityStack;
  };

  constructor(scope: Construct, id: string, props: BrowserfleetProps) {
    super(scope, id);
    const { stage, env } = props;
    // Strong references (exports/imports) between the stacks, said explicitly: CloudFormation
    // then refuses to delete state that a stateless stack still uses. Set on this construct,
    // so a user's app with other defaults synthesizes the platform the same way.
    if (this.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES) === undefined) {
      this.node.setContext(DEFAULT_CROSS_STACK_REFERENCES, 'strong');
    }
    Tags.of(this).add('project', 'browserfleet');
    Tags.of(this).add('stage', stage);

    // Named as before the construct existed, so a deployed stage keeps its stacks.
    const named = (part: string) => ({ stackName: `browserfleet-${stage}-${part}`, ...(env ? { env } : {}) });
    const state = new StateStack(this, `browserfleet-${stage}-state`, { stage, ...named('state') });
    const shared = {
      stage,
      table: tableAsITable(state.table),
      fleetQueue: state.fleetQueue,
      lambdaQueue: state.lambdaQueue,
    };
    const network = new NetworkStack(this, `browserfleet-${stage}-network`, {
      stage,
      ...named('network'),
      ...(props.vpc === undefined ? {} : { existingVpc: props.vpc }),
    });
    const sessions = new SessionsStack(this, `browserfleet-${stage}-sessions`, {
      stage,
      ...named('sessions'),
      table: tableAsITable(state.table),
      network: network.network,
      inboxCallers: network.inboxCallers,
      ticketSecret: secretAsISecret(network.ticketSecret),
      ...(props.sessionsDomain === undefined ? {} : { domain: props.sessionsDomain }),
    });
    const fleet = new FleetStack(this, `browserfleet-${stage}-fleet`, {
      ...shared,
      ...named('fleet'),
      network: network.network,
      inboxCallers: network.inboxCallers,
      ticketSecret: secretAsISecret(network.ticketSecret),
      webSocketStage: sessions.webSocketStage,
      ...(props.cdpTls === undefined ? {} : { cdpTls: props.cdpTls }),
    });
    const api = new ApiStack(this, `browserfleet-${stage}-api`, {
      ...shared,
      ...named('api'),
      network: network.network,
      inboxCallers: network.inboxCallers,
      ticketSecret: secretAsISecret(network.ticketSecret),
      webSocketStage: sessions.webSocketStage,
      webSocketPublicUrl: sessions.webSocketPublicUrl,
      cdpPublicUrl: fleet.cdpPublicUrl,
      ...(props.apiDomain === undefined ? {} : { domain: props.apiDomain }),
    });
    const engine = new EngineStack(this, `browserfleet-${stage}-engine`, {
      stage,
      ...named('engine'),
      table: tableAsITable(state.table),
      fleetQueue: state.fleetQueue,
      lambdaQueue: state.lambdaQueue,
      webhookQueue: state.webhookQueue,
      webhookDeadLetterQueue: state.webhookDeadLetterQueue,
      webSocketStage: sessions.webSocketStage,
    });
    // The runner writes under the artifact bucket, referenced by name (as for the API).
    engine.addStackDependency(state);
    sessions.addStackDependency(state);
    // Also implied by the table and queue references; said outright because the artifact
    // bucket is referenced by name, which CDK can't see.
    api.addStackDependency(state);
    fleet.addStackDependency(state);

    const observability = new ObservabilityStack(this, `browserfleet-${stage}-observability`, {
      stage,
      ...named('observability'),
      fleetQueue: state.fleetQueue,
      lambdaQueue: state.lambdaQueue,
      fleetDeadLetterQueue: state.fleetDeadLetterQueue,
      lambdaDeadLetterQueue: state.lambdaDeadLetterQueue,
      webhookDeadLetterQueue: state.webhookDeadLetterQueue,
      fleetService: fleet.service,
      httpStage: api.httpStage,
      cdpTargetGroup: fleet.cdpTargetGroup,
      ...(props.alarmTopicArn === undefined ? {} : { alarmTopicArn: props.alarmTopicArn }),
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });
    this.stacks = { state, network, sessions, api, engine, fleet, observability };
  }

  /** Every stack of the platform, e.g. to add a user's aspects or cdk-nag checks to. */
  get allStacks(): Stack[] {
    return Object.values(this.stacks);
  }
}
