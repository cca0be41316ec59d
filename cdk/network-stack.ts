/**
 * The network: the VPC the fleet runs in, the security group of the functions that reach
 * a worker's inbox (the WebSocket functions and the session close; DynamoDB is reached
 * through the VPC's gateway endpoint), and the session ticket secret. Its own stack,
 * so the sessions, fleet and API stacks can all build on it without depending on each other.
 */
import { RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Stage } from './stage.js';
import { vpcAsIVpc } from './upcasts.js';

/** A team's own VPC for the platform, instead of the one the network stack creates. */
export interface ExistingVpc {
  readonly vpc: IVpc;
  /**
   * Where the functions that call a worker's inbox run. They need routes to DynamoDB and
   * Secrets Manager (endpoints or a NAT gateway). Default: the VPC's private subnets.
   */
  readonly functionSubnets?: SubnetSelection;
  /**
   * Where the workers run. They need egress to the web and to S3, DynamoDB, SQS, ECS,
   * ECR, CloudWatch and Secrets Manager. Default: the VPC's private subnets (behind NAT).
   */
  readonly workerSubnets?: SubnetSelection;
  /** Public IPs for the workers: for public subnets without a NAT gateway. Default false. */
  readonly workerPublicIp?: boolean;
  /** Add the S3 and DynamoDB gateway endpoints and the Secrets Manager interface endpoint. Default false. */
  readonly addEndpoints?: boolean;
}

/** Where the platform's parts run: what the sessions, fleet and API stacks are given. */
export interface FleetNetwork {
  readonly vpc: IVpc;
  readonly functionSubnets: SubnetSelection;
  readonly workerSubnets: SubnetSelection;
  readonly workerPublicIp: boolean;
}

export interface NetworkStackProps extends StackProps {
  readonly stage: Stage;
  /** Run in this VPC; without it, the stack creates one (public subnets, no NAT). */
  readonly existingVpc?: ExistingVpc;
}

export class NetworkStack extends Stack {
  readonly vpc: IVpc;
  readonly network: FleetNetwork;
  /** Functions that call a worker's inbox; workers accept inbox calls from this group. */
  readonly inboxCallers: SecurityGroup;
  /** HMAC key of session tickets (CDP URLs, live-view links) and inbox calls. */
  readonly ticketSecret: Secret;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const removalPolicy = props.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const existing = props.existingVpc;
    this.vpc = existing?.vpc ?? vpcAsIVpc(this.createVpc(removalPolicy));
    const privateSubnets: SubnetSelection = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
    this.network =
      existing === undefined
        ? {
            vpc: this.vpc,
            functionSubnets: { subnetType: SubnetType.PUBLIC },
            workerSubnets: { subnetType: SubnetType.PUBLIC },
            workerPublicIp: true,
          }
        : {
            vpc: this.vpc,
            functionSubnets: existing.functionSubnets ?? privateSubnets,
            workerSubnets: existing.workerSubnets ?? privateSubnets,
            workerPublicIp: existing.workerPublicIp ?? false,
          };
    if (existing?.addEndpoints) {
      this.vpc.addGatewayEndpoint('S3Endpoint', { service: GatewayVpcEndpointAwsService.S3 });
      this.vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: GatewayVpcEndpointAwsService.DYNAMODB });
    }

    this.inboxCallers = new SecurityGroup(this, 'InboxCallers', {
      vpc: this.vpc,
      description: 'browserfleet functions that call a worker inbox',
      allowAllOutbound: true,
    });
    if (existing === undefined || existing.addEndpoints) this.addSecretsManagerEndpoint();

    this.ticketSecret = new Secret(this, 'SessionTicketSecret', {
      description: 'browserfleet: HMAC key of session tickets and worker inbox calls',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    Validations.of(this.ticketSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An operator rotates it with put-secret-value (README, "Rotating the ticket secret"): every ' +
        'process re-reads it within 5 minutes and accepts the previous version for 16 minutes after, ' +
        'so no rotation Lambda and no redeploy are needed.',
    });
  }

  // Public subnets only, no NAT gateway: workers need egress to the web (that is their
  // job), so a public IP behind a security group costs nothing and saves a NAT gateway
  // per AZ. S3 and DynamoDB traffic stays on the free gateway endpoints.
  private createVpc(removalPolicy: RemovalPolicy): Vpc {
    return new Vpc(this, 'Vpc', {
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
  }

  private addSecretsManagerEndpoint(): void {
    // The functions in the VPC read the ticket secret at run time and have no route to the
    // internet (no NAT), so Secrets Manager is reached through an interface endpoint (about
    // $0.01 per AZ-hour). Private DNS: the SDK's usual endpoint name resolves to it, for the
    // workers too.
    this.addInterfaceEndpoint(
      'SecretsManager',
      'Secrets Manager',
      InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    );
    // The MCP function runs in the VPC (it calls the workers' inboxes) and submits tasks and
    // starts sessions: SQS too, the same way.
    this.addInterfaceEndpoint('Sqs', 'SQS', InterfaceVpcEndpointAwsService.SQS);
  }

  /** An interface endpoint with private DNS, taking only HTTPS from inside the VPC. */
  private addInterfaceEndpoint(name: string, label: string, service: InterfaceVpcEndpointAwsService): void {
    const endpointSecurityGroup = new SecurityGroup(this, `${name}EndpointSecurityGroup`, {
      vpc: this.vpc,
      description: `browserfleet: HTTPS to the ${label} endpoint from inside the VPC`,
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(
      Peer.ipv4(this.vpc.vpcCidrBlock),
      Port.tcp(443),
      'HTTPS from the VPC',
    );
    Validations.of(endpointSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        "Ingress is the VPC's own CIDR on 443, not 0.0.0.0/0; cdk-nag can't read the CIDR, a deploy-time token.",
    });
    this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
      service,
      privateDnsEnabled: true,
      securityGroups: [endpointSecurityGroup],
      open: false,
    });
  }
}
