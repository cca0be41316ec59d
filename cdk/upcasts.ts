/**
 * Some aws-cdk-lib classes expose an optional member of their interface through a getter
 * typed `T | undefined`, so with `exactOptionalPropertyTypes` a `Table` is not an `ITable`
 * (aws/aws-cdk#37996, open). Each upcast here says "this construct, as its interface", in
 * one place, until aws-cdk-lib is fixed upstream; nothing else in cdk/ casts.
 */
import type { ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IVpc, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { Cluster, ICluster } from 'aws-cdk-lib/aws-ecs';
import type { ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';

export const tableAsITable = (table: Table): ITable => table as unknown as ITable;
export const secretAsISecret = (secret: Secret): ISecret => secret as unknown as ISecret;
export const clusterAsICluster = (cluster: Cluster): ICluster => cluster as unknown as ICluster;
export const vpcAsIVpc = (vpc: Vpc): IVpc => vpc as unknown as IVpc;
