/**
 * The network: the VPC the fleet runs in, the security group of the functions that reach
 * a worker's inbox (the WebSocket functions and the session close; DynamoDB is reached
 * through the VPC's gateway endpoint), and the session ticket secret. Its own stack,
 * so the sessions, fleet and API stacks can all build on it without depending on each other.
 */
import { RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Stage } from './stage.js';

export interface NetworkStackProps extends StackProps {
  readonly stage: Stage;
}

export class NetworkStack extends Stack {
  readonly vpc: Vpc;
  /** Functions that call a worker's inbox; workers accept inbox calls from this group. */
  readonly inboxCallers: SecurityGroup;
  /** HMAC key of session tickets (CDP URLs, live-view links) and inbox calls. */
  readonly ticketSecret: Secret;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const removalPolicy = props.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Public subnets only, no NAT gateway: workers need egress to the web (that is their
    // job), so a public IP behind a security group costs nothing and saves a NAT gateway
    // per AZ. S3 and DynamoDB traffic stays on the free gateway endpoints.
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: {
        s3: { service: GatewayVpcEndpointAwsService.S3 },
        dynamodb: { service: GatewayVpcEndpointAwsService.DYNAMODB },
      },
      // Refused connections only: a browser fleet's accepted traffic is every page of every
      // task, which at $0.50 per ingested GB would cost more than the fleet's own floor,
      // while what a security group turned away is what an investigation looks for.
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy }),
          ),
          trafficType: FlowLogTrafficType.REJECT,
        },
      },
    });

    this.inboxCallers = new SecurityGroup(this, 'InboxCallers', {
      vpc: this.vpc,
      description: 'browserfleet functions that call a worker inbox',
      allowAllOutbound: true,
    });
    this.ticketSecret = new Secret(this, 'SessionTicketSecret', {
      description: 'browserfleet: HMAC key of session tickets and worker inbox calls',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    Validations.of(this.ticketSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it only invalidates outstanding tickets (10-minute CDP and live-view links); ' +
        'an operator rotates by setting a new value and redeploying, no rotation Lambda needed.',
    });
  }

  /** The secret's value for an environment variable (a CloudFormation dynamic reference). */
  ticketSecretValue(): string {
    return SecretValue.secretsManager(this.ticketSecret.secretArn).unsafeUnwrap();
  }
}
