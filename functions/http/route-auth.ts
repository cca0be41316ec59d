/** The API-key check and the tenants' rate buckets, for the routes that take a key. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRateBucketStore } from '../../shared/adapters/dynamodb-rate-bucket-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import { systemClock } from '../../shared/clock.js';
import type { RouteAuth } from './http-route.js';

export const createRouteAuth = (dynamo: DynamoDBDocumentClient, stateTable: string): RouteAuth => ({
  verifier: new StoredApiKeyVerifier(new DynamoDbTenantStore(dynamo, stateTable)),
  buckets: new DynamoDbRateBucketStore(dynamo, stateTable),
  clock: systemClock,
});
