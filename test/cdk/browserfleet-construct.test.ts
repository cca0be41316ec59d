/**
 * The Browserfleet construct as a team embeds it in its own CDK app: its own construct id,
 * the stacks named as this repository's app names them, and TLS for CDP when given a
 * certificate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { afterAll, describe, expect, it } from 'vitest';
import { Browserfleet } from '../../cdk/browserfleet.js';

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
      ['api', 'fleet', 'network', 'observability', 'sessions', 'state'].map((p) => `browserfleet-prod-${p}`),
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
});
