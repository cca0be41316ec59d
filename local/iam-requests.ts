/**
 * What a call to an emulator asks IAM for: the actions (one call may be several, as a
 * transaction or a batch is), the resource ARNs and the condition keys, read from the
 * request as AWS reads it — DynamoDB's and SQS's JSON protocol, S3's REST paths.
 */
import type { IncomingMessage } from 'node:http';
import type { FaultService } from './aws-faults.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './iam-policies.js';

/** One call as IAM sees it: the action, on what, with which request context. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const tableArn = (table: string, index?: string) =>
  `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}${index === undefined ? '' : `/index/${index}`}`;

/** A table's items, and the (dynamodb) condition keys a request about them carries. */
const dynamoContext = (input: Record<string, unknown>): Record<string, string | string[]> => {
  const context: Record<string, string | string[]> = {};
  if (typeof input.ReturnValues === 'string') context['dynamodb:ReturnValues'] = input.ReturnValues;
  if (typeof input.Select === 'string') context['dynamodb:Select'] = input.Select;
  if (typeof input.ReturnConsumedCapacity === 'string')
    context['dynamodb:ReturnConsumedCapacity'] = input.ReturnConsumedCapacity;
  return context;
};

/** TransactWriteItems has no IAM action of its own: each item is judged as its single-item action. */
const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

const dynamoRequests = (operation: string, body: Buffer): AuthorizationRequest[] => {
  const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return asList(input.TransactItems as Record<string, Record<string, unknown>>[]).flatMap((item) =>
      Object.entries(item).map(([kind, detail]) => ({
        action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
        resource: tableArn(String(detail.TableName)),
        context: dynamoContext(detail),
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    // One request per item, not per table: IAM's answer is the same, and the ledger's item
    // count is then the batch's capacity (each item read or written is a unit of its own).
    const tables = (input.RequestItems as Record<string, unknown> | undefined) ?? {};
    return Object.entries(tables).flatMap(([table, request]) => {
      const items = operation === 'BatchGetItem' ? (request as { Keys?: unknown[] }).Keys : request;
      return Array.from({ length: Math.max(1, asList(items as unknown[]).length) }, () => ({
        action: `dynamodb:${operation}`,
        resource: tableArn(table),
        context: dynamoContext(input),
      }));
    });
  }
  if (typeof input.TableName === 'string') {
    return [
      {
        action: `dynamodb:${operation}`,
        resource: tableArn(
          input.TableName,
          typeof input.IndexName === 'string' ? input.IndexName : undefined,
        ),
        context: dynamoContext(input),
      },
    ];
  }
  return [{ action: `dynamodb:${operation}`, resource: '*', context: {} }];
};

/** SQS's batch operations are authorized as the single-message action. */
const SQS_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * A queue URL's ARN. The local cloud is one account, whichever id the emulator writes into
 * its queue URLs (local-aws-sqs: 123456789012, LocalStack: 000000000000).
 */
const queueArn = (queueUrl: string): string => {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).at(-1);
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
};

const sqsRequests = (req: IncomingMessage, body: Buffer): AuthorizationRequest[] => {
  const target = req.headers['x-amz-target'];
  let operation: string;
  let input: Record<string, unknown>;
  if (typeof target === 'string') {
    operation = target.slice(target.lastIndexOf('.') + 1);
    input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } else {
    // The query protocol (older SDKs, the AWS CLI v1): a form body.
    const form = new URLSearchParams(body.toString('utf8'));
    operation = form.get('Action') ?? 'Unknown';
    input = Object.fromEntries(form);
  }
  const action = `sqs:${SQS_ACTIONS[operation] ?? operation}`;
  if (typeof input.QueueUrl === 'string')
    return [{ action, resource: queueArn(input.QueueUrl), context: {} }];
  if (typeof input.QueueName === 'string') {
    return [
      { action, resource: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${input.QueueName}`, context: {} },
    ];
  }
  return [{ action, resource: '*', context: {} }];
};

/** Bucket subresources and the action each names (GET / PUT / DELETE). */
const BUCKET_SUBRESOURCES: Record<string, [string, string, string]> = {
  policy: ['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  cors: ['GetBucketCORS', 'PutBucketCORS', 'PutBucketCORS'],
  lifecycle: ['GetLifecycleConfiguration', 'PutLifecycleConfiguration', 'PutLifecycleConfiguration'],
  website: ['GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  tagging: ['GetBucketTagging', 'PutBucketTagging', 'PutBucketTagging'],
  acl: ['GetBucketAcl', 'PutBucketAcl', 'PutBucketAcl'],
  versioning: ['GetBucketVersioning', 'PutBucketVersioning', 'PutBucketVersioning'],
  location: ['GetBucketLocation', 'GetBucketLocation', 'GetBucketLocation'],
  uploads: ['ListBucketMultipartUploads', 'ListBucketMultipartUploads', 'ListBucketMultipartUploads'],
  versions: ['ListBucketVersions', 'ListBucketVersions', 'ListBucketVersions'],
};

const s3Requests = (req: IncomingMessage, body: Buffer, presigned: boolean): AuthorizationRequest[] => {
  const url = new URL(req.url ?? '/', 'http://front');
  const [bucket, ...keyParts] = url.pathname.slice(1).split('/');
  const key = keyParts.map(decodeURIComponent).join('/');
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  const context: Record<string, string | string[]> = {
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
  };
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  for (const [name, contextKey] of [
    ['x-amz-acl', 's3:x-amz-acl'],
    ['x-amz-server-side-encryption', 's3:x-amz-server-side-encryption'],
    ['x-amz-storage-class', 's3:x-amz-storage-class'],
    ['x-amz-copy-source', 's3:x-amz-copy-source'],
    ['x-amz-metadata-directive', 's3:x-amz-metadata-directive'],
  ] as const) {
    const value = header(name);
    if (value !== undefined) context[contextKey] = value;
  }
  if (bucket === undefined || bucket === '')
    return [{ action: 's3:ListAllMyBuckets', resource: '*', context }];
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key === '') {
    const sub = Object.keys(BUCKET_SUBRESOURCES).find((s) => q.has(s));
    if (method === 'POST' && q.has('delete')) {
      // DeleteObjects: each key is judged as s3:DeleteObject.
      const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] ?? '');
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}`, context }));
    }
    if (sub !== undefined) {
      const [get, put, del] = BUCKET_SUBRESOURCES[sub] as [string, string, string];
      const action = method === 'PUT' ? put : method === 'DELETE' ? del : get;
      return [{ action: `s3:${action}`, resource: bucketArn, context }];
    }
    if (method === 'PUT') return [{ action: 's3:CreateBucket', resource: bucketArn, context }];
    if (method === 'DELETE') return [{ action: 's3:DeleteBucket', resource: bucketArn, context }];
    // GET (ListObjects) and HEAD (HeadBucket) are both s3:ListBucket, with its condition keys.
    context['s3:prefix'] = q.get('prefix') ?? '';
    if (q.has('delimiter')) context['s3:delimiter'] = q.get('delimiter') ?? '';
    if (q.has('max-keys')) context['s3:max-keys'] = q.get('max-keys') ?? '';
    return [{ action: 's3:ListBucket', resource: bucketArn, context }];
  }
  const objectArn = `${bucketArn}/${key}`;
  const versioned = q.has('versionId');
  const one = (action: string): AuthorizationRequest[] => [
    { action: `s3:${action}`, resource: objectArn, context },
  ];
  if (q.has('tagging')) {
    return one(
      method === 'PUT'
        ? 'PutObjectTagging'
        : method === 'DELETE'
          ? 'DeleteObjectTagging'
          : 'GetObjectTagging',
    );
  }
  if (q.has('acl')) return one(method === 'PUT' ? 'PutObjectAcl' : 'GetObjectAcl');
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return one('ListMultipartUploadParts');
      return one(versioned ? 'GetObjectVersion' : 'GetObject');
    case 'HEAD':
      return one(versioned ? 'GetObjectVersion' : 'GetObject');
    case 'DELETE':
      if (q.has('uploadId')) return one('AbortMultipartUpload');
      return one(versioned ? 'DeleteObjectVersion' : 'DeleteObject');
    case 'PUT': {
      const source = header('x-amz-copy-source');
      const put = one('PutObject');
      // CopyObject also reads its source.
      if (source === undefined) return put;
      const path = decodeURIComponent(source.split('?')[0] ?? '').replace(/^\//, '');
      return [...put, { action: 's3:GetObject', resource: `arn:aws:s3:::${path}`, context }];
    }
    default:
      // POST ?uploads (CreateMultipartUpload) and ?uploadId (CompleteMultipartUpload).
      return one('PutObject');
  }
};

/** DynamoDB's operation, from the JSON protocol's target header. */
const operationOf = (req: IncomingMessage): string => {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : 'Unknown';
};

/** Every authorization a call needs; `presigned`: an S3 URL signed in its query. Throws on a body it can't read. */
export const authorizationRequests = (
  service: FaultService,
  req: IncomingMessage,
  body: Buffer,
  presigned: boolean,
): AuthorizationRequest[] =>
  service === 'dynamodb'
    ? dynamoRequests(operationOf(req), body)
    : service === 'sqs'
      ? sqsRequests(req, body)
      : s3Requests(req, body, presigned);
