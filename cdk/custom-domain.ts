/**
 * A custom domain for an API Gateway API (HTTP or WebSocket): a regional domain name with
 * the team's ACM certificate, mapped to the API's stage, and the name to point DNS at as a
 * stack output.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { ApiMapping, DomainName, type IApi, type IStage, SecurityPolicy } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { Construct } from 'constructs';

export interface CustomDomain {
  /** e.g. `api.example.com`; point a CNAME (or alias) at the stack's `<id>Target` output. */
  readonly domainName: string;
  /** An ACM certificate for `domainName`, in the stack's region (regional endpoint). */
  readonly certificate: ICertificate;
}

/** Maps `api`'s `stage` to `domain`; answers the domain name clients use. */
export const mapCustomDomain = (
  scope: Construct,
  id: string,
  domain: CustomDomain,
  api: IApi,
  stage: IStage,
): string => {
  const name = new DomainName(scope, id, {
    domainName: domain.domainName,
    certificate: domain.certificate,
    securityPolicy: SecurityPolicy.TLS_1_2,
  });
  new ApiMapping(scope, `${id}Mapping`, { api, domainName: name, stage });
  new CfnOutput(scope, `${id}Target`, {
    value: name.regionalDomainName,
    description: `Point ${domain.domainName} (CNAME or alias) here`,
  });
  return domain.domainName;
};
