/**
 * The artifact bucket's name, the keys grants cover, and how other stacks see the bucket.
 */
import { Aws, type Stack, Validations } from 'aws-cdk-lib';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { ARTIFACT_BUCKET, resourceName } from '../shared/contracts.js';
import type { Stage } from './stage.js';

/**
 * Bucket names are global across all AWS accounts: account and region make ours unique.
 * `account` and `region` default to the deploy-time pseudo parameters.
 */
export const artifactBucketName = (
  stage: Stage,
  account: string = Aws.ACCOUNT_ID,
  region: string = Aws.REGION,
): string => `${resourceName(ARTIFACT_BUCKET.baseName, stage)}-${account}-${region}`;

/**
 * The keys `ARTIFACT_BUCKET.key` makes, as an IAM pattern: everything under its first path
 * segment (`tasks/*`). Derived rather than spelled again, so a change of key layout in the
 * contracts module moves the grants with it.
 */
export const ARTIFACT_KEY_PATTERN = `${ARTIFACT_BUCKET.key('x', 0, 'x').split('/')[0]}/*`;

/**
 * The artifact bucket as a stack other than the state stack sees it: by its name, which
 * is known before deployment. Its grants then carry no cross-stack reference, so the
 * bucket's export can't pin the state stack, and cdk-nag's finding for them (below) reads
 * the same on every synth.
 */
export const importArtifactBucket = (stack: Stack, stage: Stage): IBucket =>
  Bucket.fromBucketName(stack, 'ArtifactBucket', artifactBucketName(stage));

/**
 * Acknowledges, for one stack, the cdk-nag finding that grants on artifact objects
 * produce: their resource is `…/tasks/*`. Exactly that finding, spelled as cdk-nag spells
 * it (pseudo parameters as `<AWS::…>`), and nothing broader.
 */
export const acknowledgeArtifactObjectGrants = (stack: Stack, stage: Stage): void => {
  const bucket = artifactBucketName(stage, '<AWS::AccountId>', '<AWS::Region>');
  Validations.of(stack).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${ARTIFACT_KEY_PATTERN}]`,
    reason:
      'Artifact keys are made per task at run time (tasks/<taskId>/<leaseToken>/<name>); the grant covers ' +
      'that prefix of one bucket and only s3:GetObject or s3:PutObject.',
  });
};
