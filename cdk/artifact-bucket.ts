/**
 * The artifact bucket's name, the keys grants cover (from the contracts' key layouts), and
 * how other stacks see the bucket.
 */
import { Aws, type Stack, Validations } from 'aws-cdk-lib';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { ARTIFACT_BUCKET, type ArtifactKeyLayout, resourceName } from '../shared/contracts.js';
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
 * The keys of one layout as an IAM pattern: everything under its prefix (`tasks/*`).
 * Derived from the contracts' declaration, so a new layout, or a changed prefix, moves
 * the grants with it.
 */
export const artifactKeyPattern = (layout: ArtifactKeyLayout): string => `${layout.prefix}*`;

/** The artifact bucket as a stack other than the state stack sees it, with its stage. */
export interface ArtifactBucketRef {
  readonly bucket: IBucket;
  readonly stage: Stage;
}

/**
 * The artifact bucket by its name, which is known before deployment. Its grants then
 * carry no cross-stack reference, so the bucket's export can't pin the state stack, and
 * cdk-nag's finding for them (below) reads the same on every synth.
 */
export const importArtifactBucket = (stack: Stack, stage: Stage): ArtifactBucketRef => ({
  bucket: Bucket.fromBucketName(stack, 'ArtifactBucket', artifactBucketName(stage)),
  stage,
});

/**
 * Acknowledges, on the principal given it, the cdk-nag finding that a grant on one
 * layout's objects produces: its resource ends in `<prefix>*`. Exactly that finding,
 * spelled as cdk-nag spells it (pseudo parameters as `<AWS::…>`), and nothing broader.
 */
export const acknowledgeArtifactObjectGrant = (
  principal: IConstruct,
  artifacts: ArtifactBucketRef,
  layout: ArtifactKeyLayout,
): void => {
  const bucket = artifactBucketName(artifacts.stage, '<AWS::AccountId>', '<AWS::Region>');
  Validations.of(principal).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${artifactKeyPattern(layout)}]`,
    reason:
      `Keys under ${layout.prefix} are made per object at run time (ARTIFACT_KEYS in the contracts); the ` +
      'grant covers that prefix of one bucket and only s3:GetObject or s3:PutObject.',
  });
};
