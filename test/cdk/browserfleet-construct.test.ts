/**
 * The Browserfleet construct as a team embeds it in its own CDK app: its own construct id,
 * the stacks named as this repository's app names them, and TLS for CDP when given a
 * certificate, a team's own VPC, and custom domains for the HTTP and WebSocket APIs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { afterAll, describe, expect, it } from 'vitest';
import { Browserfleet } from '../../cdk/browserfleet.js';
import { vpcAsIVpc } from '../../cdk/upcasts.js';

const outdirs: string[] = [];
const userApp = () => {
  const outdir = mkdtempSync(join(tmpdir(), 'browserfleet-construct-test-'));
  outdirs.push(outdir);
  return new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
};
afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

describe('the Browserfleet construct', { timeout: 120_000 }, () => {
  it("embeds in a user's app beside its own stacks, with the platform's stack names", () => {
    const app = userApp();
    new Stack(app, 'TeamStack');
    const platform = new Browserfleet(app, 'Platform', {
      stage: 'prod',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
    });
    expect(platform.allStacks.map((s) => s.stackName).sort()).toEqual(
      ['api', 'engine', 'fleet', 'network', 'observability', 'sessions', 'state'].map(
        (p) => `browserfleet-prod-${p}`,
      ),
    );
    // The given topic is notified; none is created.
    const observability = Template.fromStack(platform.stacks.observability);
    expect(Object.keys(observability.findResources('AWS::SNS::Topic'))).toEqual([]);
  });

  it('with a certificate, CDP is wss:// on 443 behind TLS, and port 80 is not open', () => {
    const app = userApp();
    const certs = new Stack(app, 'Certs');
    const certificate = Certificate.fromCertificateArn(
      certs,
      'Cdp',
      'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
    );
    const platform = new Browserfleet(app, 'Platform', {
      stage: 'dev',
      cdpTls: { certificate, domainName: 'cdp.example.com' },
    });
    const fleet = Template.fromStack(platform.stacks.fleet);
    fleet.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: Match.stringLikeRegexp('^arn:aws:acm:') }],
    });
    expect(
      Object.keys(fleet.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Port: 80 } })),
    ).toEqual([]);
    fleet.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })],
    });
    expect(platform.stacks.fleet.cdpPublicUrl).toBe('wss://cdp.example.com');
    // The functions hand out wss:// CDP URLs.
    const api = Template.fromStack(platform.stacks.api);
    const envs = Object.values(api.findResources('AWS::Lambda::Function')).map((f) =>
      JSON.stringify((f as { Properties: { Environment?: unknown } }).Properties.Environment ?? {}),
    );
    expect(envs.some((e) => e.includes('"CDP_PUBLIC_URL":"wss://cdp.example.com"'))).toBe(true);
  });

  it("runs in a team's own VPC: its subnets for functions and workers, no VPC of its own", () => {
    const app = userApp();
    const team = new Stack(app, 'TeamNetwork');
    const vpc = new Vpc(team, 'TeamVpc', {
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'edge', subnetType: SubnetType.PUBLIC },
        { name: 'apps', subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    const platform = new Browserfleet(app, 'Platform', { stage: 'dev', vpc: { vpc: vpcAsIVpc(vpc) } });
    const network = Template.fromStack(platform.stacks.network);
    expect(Object.keys(network.findResources('AWS::EC2::VPC'))).toEqual([]);
    expect(Object.keys(network.findResources('AWS::EC2::VPCEndpoint'))).toEqual([]);

    const privateSubnetIds = vpc.privateSubnets.map((s) => platform.stacks.fleet.resolve(s.subnetId));
    expect(privateSubnetIds).toHaveLength(2);
    // Cross-stack references to the team's private subnets, by their logical ids.
    const privateLogicalIds = vpc.privateSubnets.map((s) => team.getLogicalId(s.node.defaultChild as never));
    const namesPrivateSubnet = (value: unknown) =>
      privateLogicalIds.some((id) => JSON.stringify(value).includes(id));

    const fleet = Template.fromStack(platform.stacks.fleet);
    const service = Object.values(fleet.findResources('AWS::ECS::Service'))[0] as {
      Properties: {
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[] } };
      };
    };
    const awsvpc = service.Properties.NetworkConfiguration.AwsvpcConfiguration;
    expect(awsvpc.AssignPublicIp).toBe('DISABLED');
    expect(awsvpc.Subnets.every(namesPrivateSubnet)).toBe(true);

    const sessions = Template.fromStack(platform.stacks.sessions);
    const vpcFunctions = Object.values(sessions.findResources('AWS::Lambda::Function')).map(
      (f) => (f as { Properties: { VpcConfig?: { SubnetIds: unknown[] } } }).Properties.VpcConfig,
    );
    expect(vpcFunctions.length).toBeGreaterThan(0);
    for (const config of vpcFunctions) expect(config?.SubnetIds.every(namesPrivateSubnet)).toBe(true);
  });

  it('serves the HTTP and WebSocket APIs at custom domains, and hands out their URLs', () => {
    const app = userApp();
    const certs = new Stack(app, 'Certs');
    const certificate = Certificate.fromCertificateArn(
      certs,
      'Api',
      'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-1111-1111-1111-111111111111',
    );
    const platform = new Browserfleet(app, 'Platform', {
      stage: 'dev',
      apiDomain: { certificate, domainName: 'api.example.com' },
      sessionsDomain: { certificate, domainName: 'sessions.example.com' },
    });
    const api = Template.fromStack(platform.stacks.api);
    api.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.example.com',
      DomainNameConfigurations: [Match.objectLike({ SecurityPolicy: 'TLS_1_2', EndpointType: 'REGIONAL' })],
    });
    api.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    api.hasOutput('HttpApiUrl', { Value: 'https://api.example.com/' });

    const sessions = Template.fromStack(platform.stacks.sessions);
    sessions.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'sessions.example.com' });
    sessions.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    sessions.hasOutput('WebSocketUrl', { Value: 'wss://sessions.example.com' });
    // Sessions answered by the HTTP API name the custom WebSocket domain.
    const envs = Object.values(api.findResources('AWS::Lambda::Function')).map((f) =>
      JSON.stringify((f as { Properties: { Environment?: unknown } }).Properties.Environment ?? {}),
    );
    expect(envs.some((e) => e.includes('"WEBSOCKET_PUBLIC_URL":"wss://sessions.example.com"'))).toBe(true);
  });
});
