/**
 * Names shared by the infrastructure (`cdk/`) and the runtime (`functions/`, `container/`,
 * `local/`). Both sides import them from here, so a table, queue, env var or metric can
 * never be spelled two ways. This module imports nothing and does nothing at load time.
 */

/** Environment variables read by the composition roots, and set by the CDK app. */
export const ENV = {
  stage: 'STAGE',
  awsRegion: 'AWS_REGION',
  awsEndpointUrl: 'AWS_ENDPOINT_URL',
  stateTable: 'STATE_TABLE_NAME',
  fleetQueueUrl: 'FLEET_QUEUE_URL',
  lambdaQueueUrl: 'LAMBDA_QUEUE_URL',
  lambdaConcurrency: 'LAMBDA_CONCURRENCY',
  artifactBucket: 'ARTIFACT_BUCKET_NAME',
  artifactUrlTtlSeconds: 'ARTIFACT_URL_TTL_SECONDS',
  localApiKey: 'LOCAL_API_KEY',
  chromiumPath: 'CHROMIUM_PATH',
  chromiumBinDir: 'CHROMIUM_BIN_DIR',
  egressAllow: 'EGRESS_ALLOW',
  metricsEnabled: 'METRICS_ENABLED',
  workerId: 'WORKER_ID',
  workerConcurrency: 'WORKER_CONCURRENCY',
  leaseMs: 'LEASE_MS',
  heartbeatMs: 'HEARTBEAT_MS',
  drainMs: 'DRAIN_MS',
  retryBaseMs: 'RETRY_BASE_MS',
  retryCapMs: 'RETRY_CAP_MS',
  sweepIntervalMs: 'SWEEP_INTERVAL_MS',
  sweepResendAfterMs: 'SWEEP_RESEND_AFTER_MS',
  sessionPendingTimeoutMs: 'SESSION_PENDING_TIMEOUT_MS',
  idempotencyTtlSeconds: 'IDEMPOTENCY_TTL_SECONDS',
  fleetDlqUrl: 'FLEET_DLQ_URL',
  port: 'PORT',
  localDataDir: 'LOCAL_DATA_DIR',
  /** Share of the local cloud's AWS calls its fault front answers with a fault (0: off). */
  localFaultRate: 'LOCAL_FAULT_RATE',
  /** Seed of the fault front's PRNG: the same seed repeats the same faults. */
  localFaultSeed: 'LOCAL_FAULT_SEED',
  /** Comma-separated fault kinds to inject (default: all), e.g. `transaction-conflict,slow`. */
  localFaultKinds: 'LOCAL_FAULT_KINDS',
  /** The longest a `slow` fault holds a call, ms. */
  localFaultSlowMs: 'LOCAL_FAULT_SLOW_MS',
  /** `on` (default) or `off`: the local cloud's IAM front judges every AWS call by its caller's role. */
  localIam: 'LOCAL_IAM',
  /** A file the IAM front appends each denied call to (JSON lines), to collect a run's denials. */
  localIamDenialLog: 'LOCAL_IAM_DENIAL_LOG',
  /**
   * Against emulators only: the access key id this process signs its AWS calls with, which
   * tells the local cloud's IAM front whose role it is (real AWS uses the SDK's own chain).
   */
  localAccessKeyId: 'LOCAL_AWS_ACCESS_KEY_ID',
  logLevel: 'LOG_LEVEL',
  /** HMAC key that signs session tickets (CDP URLs, live-view links) and inbox calls. */
  sessionTicketSecret: 'SESSION_TICKET_SECRET',
  /**
   * On AWS: the ARN of the Secrets Manager secret holding that key, read at run time (so a
   * rotation reaches running functions and workers without a deploy). The value itself is
   * never in a function's or task's configuration.
   */
  sessionTicketSecretId: 'SESSION_TICKET_SECRET_ID',
  /** On ECS: the worker's cluster and service, whose primary deployment it watches. */
  workerClusterName: 'WORKER_CLUSTER_NAME',
  workerServiceName: 'WORKER_SERVICE_NAME',
  /** Set by ECS itself: the agent's endpoint (task protection) and the task metadata endpoint. */
  ecsAgentUri: 'ECS_AGENT_URI',
  ecsContainerMetadataUri: 'ECS_CONTAINER_METADATA_URI_V4',
  /** Base URL of the API Gateway management API (`@connections`) of the WebSocket API. */
  websocketManagementUrl: 'WEBSOCKET_MANAGEMENT_URL',
  /** Public `wss://` URL of the WebSocket API, for the live-view page. */
  websocketPublicUrl: 'WEBSOCKET_PUBLIC_URL',
  /** Public base URL of the CDP router (the fleet's load balancer), for `cdpUrl`. */
  cdpPublicUrl: 'CDP_PUBLIC_URL',
  /** Port of the worker's inbox and CDP router. */
  workerInboxPort: 'WORKER_INBOX_PORT',
  /** Address other parts reach this worker's inbox at (the task's private IP on ECS). */
  workerAdvertiseHost: 'WORKER_ADVERTISE_HOST',
  /** Live sessions one worker hosts at once (each has its own Chromium). */
  workerSessionSlots: 'WORKER_SESSION_SLOTS',
  /** `0` stops the worker keeping a session browser launched ahead of need. */
  sessionSpareBrowser: 'SESSION_SPARE_BROWSER',
  /** The webhook queue: the sweeper sends task end events to it, the deliverer takes them. */
  webhookQueueUrl: 'WEBHOOK_QUEUE_URL',
  /** Where the deliverer puts an event whose attempts ran out. */
  webhookDlqUrl: 'WEBHOOK_DLQ_URL',
  /** The webhook deliverer's backoff between attempts (ceiling of the first, and the cap). */
  webhookRetryBaseMs: 'WEBHOOK_RETRY_BASE_MS',
  webhookRetryCapMs: 'WEBHOOK_RETRY_CAP_MS',
  /** How long one delivery attempt may take, connect to the answer's end. */
  webhookTimeoutMs: 'WEBHOOK_TIMEOUT_MS',
} as const;

/** The single DynamoDB table that holds every kind of state row. */
export const STATE_TABLE = {
  /** Logical name; the deployed name is prefixed with the stage. */
  baseName: 'browserfleet-state',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB may delete the row. Code checks expiry itself. */
  ttlAttribute: 'expiresAt',
  /** Sparse GSI of live tasks by status and sweep due time (epoch ms), for the sweeper. */
  sweepIndex: { name: 'sweep', partitionKey: 'sweepPk', sortKey: 'sweepDueAt', sortKeyType: 'N' },
  /**
   * GSI of every task by tenant, newest last (`<createdAt>#<id>`), for `GET /v1/tasks`. On
   * the task row itself, so an entry lives exactly as long as its task. Only the functions
   * that declare `taskHistory` may query it (a tenant's whole history is in one partition).
   * One partition per tenant takes ~1,000 writes/s (each task write is one): far above any
   * tenant's rate limit; a tenant allowed more would need its partition key sharded.
   */
  taskHistoryIndex: {
    name: 'task-history',
    partitionKey: 'historyPk',
    sortKey: 'historySk',
    sortKeyType: 'S',
  },
} as const;

/** Key shapes of the rows in the state table. */
export const KEYS = {
  taskPk: (taskId: string) => `TASK#${taskId}`,
  taskSk: 'TASK',
  taskSweepPk: (status: string) => `TASKS#${status}`,
  /** A tenant's task history: one partition of the task-history index. */
  taskHistoryPk: (tenantId: string) => `HISTORY#${tenantId}`,
  /** ISO-8601 creation time (fixed width, so it sorts as text), then the id to break ties. */
  taskHistorySk: (createdAt: string, taskId: string) => `${createdAt}#${taskId}`,
  idempotencyPk: (tenantId: string, key: string) => `IDEMPOTENCY#${tenantId}#${key}`,
  idempotencySk: 'IDEMPOTENCY',
  /**
   * A result-cache entry: the tenant's latest result of one normalized request (`key`, a
   * hash: see shared/task/result-cache.ts), expired by TTL (`expiresAt`) and checked by code.
   */
  resultCachePk: (tenantId: string, key: string) => `CACHE#${tenantId}#${key}`,
  resultCacheSk: 'CACHE',
  tenantPk: (tenantId: string) => `TENANT#${tenantId}`,
  tenantSk: 'TENANT',
  /** A tenant's copy of each of its keys, for listing: sk `KEY#<prefix>`. */
  tenantKeySk: (prefix: string) => `KEY#${prefix}`,
  apiKeyPk: (hash: string) => `APIKEY#${hash}`,
  apiKeySk: 'APIKEY',
  rateBucketPk: (tenantId: string) => `RATE#${tenantId}`,
  rateBucketSk: 'RATE',
  usagePk: (tenantId: string) => `USAGE#${tenantId}`,
  usageSk: 'USAGE',
  /** A tenant's sessions share one partition, so listing them is one query. */
  sessionPk: (tenantId: string) => `SESSIONS#${tenantId}`,
  sessionSk: (sessionId: string) => `SESSION#${sessionId}`,
  sessionSweepPk: (status: string) => `SESSIONS#${status}`,
  /** A WebSocket connection: who opened it and which session it is attached to. */
  connectionPk: (connectionId: string) => `CONN#${connectionId}`,
  connectionSk: 'CONN',
  /** The connections attached to a session, beside it, so its end can be told to them. */
  attachmentSk: (sessionId: string, connectionId: string) => `ATTACH#${sessionId}#${connectionId}`,
  attachmentPrefix: (sessionId: string) => `ATTACH#${sessionId}#`,
} as const;

/**
 * The result cache (`cacheTTL` on a task). An entry points at its source task's artifacts
 * (no copy), so the artifact bucket keeps objects longer than the longest TTL plus the
 * longest presigned URL (test/cdk checks the lifecycle rule against it).
 */
export const RESULT_CACHE = {
  /** The longest `cacheTTL` a task may ask for: one day, as Cloudflare's quick actions allow. */
  maxTtlSeconds: 86_400,
} as const;

/** SQS queues: one per execution tier, each with its dead-letter queue. */
export const QUEUES = {
  fleet: { baseName: 'browserfleet-tasks-fleet', dlqBaseName: 'browserfleet-tasks-fleet-dlq' },
  lambda: { baseName: 'browserfleet-tasks-lambda', dlqBaseName: 'browserfleet-tasks-lambda-dlq' },
  /** The Lambda tier's function timeout: the longest task (120 s) plus launch and upload. */
  lambdaFunctionTimeoutSeconds: 150,
  /** AWS's rule for an SQS event source: visibility at least 6× the function timeout. */
  lambdaVisibilityTimeoutSeconds: 900,
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: 5,
  /** How long a received message stays hidden; well above a screenshot's run time. */
  visibilityTimeoutSeconds: 120,
  /**
   * Webhook events. Each message is one delivery attempt: a failed one is followed by a
   * fresh copy delayed by the backoff, and after `webhookMaxAttempts` the deliverer puts the
   * event in the DLQ. The queue's own redrive (maxReceiveCount) catches copies whose
   * invocation crashed; its visibility is above the deliverer's timeout.
   */
  webhooks: { baseName: 'browserfleet-webhooks', dlqBaseName: 'browserfleet-webhooks-dlq' },
  webhookVisibilityTimeoutSeconds: 60,
  webhookMaxAttempts: 8,
} as const;

/**
 * The parts of the code that touch artifact objects: each one puts objects, or presigns
 * URLs to them (a presigned URL carries its signer's rights, so that is a read).
 * - `taskRunner`: a runner (fleet worker, Lambda tier) writing a task's artifacts.
 * - `taskReader`: the HTTP functions that answer with a task's artifact URLs.
 * - `sessionHost`: the fleet worker hosting live sessions (its screenshot and downloads commands).
 */
export type ArtifactAccessor = 'taskRunner' | 'taskReader' | 'sessionHost';

/** One key layout of the artifact bucket: its prefix, and who puts and presigns under it. */
export interface ArtifactKeyLayout {
  /** Every key of the layout starts with it; it ends with `/`. */
  readonly prefix: string;
  readonly put: readonly ArtifactAccessor[];
  readonly presign: readonly ArtifactAccessor[];
}

const TASK_ARTIFACTS_PREFIX = 'tasks/';
const SESSION_SCREENSHOTS_PREFIX = 'sessions/';
const SESSION_DOWNLOADS_PREFIX = 'session-downloads/';

/**
 * Every key layout of the artifact bucket: code builds its keys only with these builders,
 * and CDK grants each accessor `PutObject`/`GetObject` on exactly the prefixes declared for
 * it here. A new kind of object is a new entry, and its grants come with it.
 */
export const ARTIFACT_KEYS = {
  taskArtifact: {
    prefix: TASK_ARTIFACTS_PREFIX,
    put: ['taskRunner'],
    presign: ['taskReader'],
    /** The fencing token in the key keeps a stale attempt from overwriting the winner's. */
    key: (taskId: string, leaseToken: number, name: string) =>
      `${TASK_ARTIFACTS_PREFIX}${taskId}/${leaseToken}/${name}`,
  },
  sessionScreenshot: {
    prefix: SESSION_SCREENSHOTS_PREFIX,
    put: ['sessionHost'],
    presign: ['sessionHost'],
    /** One per screenshot command; the command id (client-chosen) is made key-safe. */
    key: (sessionId: string, commandId: string, takenAtMs: number, extension: string) =>
      `${SESSION_SCREENSHOTS_PREFIX}${sessionId}/${commandId.replace(/[^\w.-]/g, '_')}-${takenAtMs}.${extension}`,
  },
  sessionDownload: {
    prefix: SESSION_DOWNLOADS_PREFIX,
    put: ['sessionHost'],
    presign: ['sessionHost'],
    /**
     * One per file a session's page downloaded, stored once (`downloads` command); `seq`
     * (the session's count of stored files) keeps two names that are key-safe alike apart.
     */
    key: (sessionId: string, seq: number, fileName: string) =>
      `${SESSION_DOWNLOADS_PREFIX}${sessionId}/${seq}-${fileName.replace(/[^\w.-]/g, '_').slice(0, 200)}`,
  },
} as const satisfies Record<string, ArtifactKeyLayout & { key: (...parts: never[]) => string }>;

/** S3 bucket for artifacts (task outputs, session screenshots). Private; clients get presigned, expiring URLs. */
export const ARTIFACT_BUCKET = {
  baseName: 'browserfleet-artifacts',
  /** Key of a task's artifact (`ARTIFACT_KEYS.taskArtifact`). */
  key: ARTIFACT_KEYS.taskArtifact.key,
} as const;

/** HTTP API routes and the function that serves each. */
export const HTTP_ROUTES = [
  { routeKey: 'POST /v1/tasks', functionName: 'http-create-task', auth: true },
  { routeKey: 'GET /v1/tasks', functionName: 'http-list-tasks', auth: true },
  { routeKey: 'POST /v1/tasks/batch', functionName: 'http-create-task-batch', auth: true },
  { routeKey: 'GET /v1/tasks/{id}', functionName: 'http-get-task', auth: true },
  { routeKey: 'DELETE /v1/tasks/{id}', functionName: 'http-cancel-task', auth: true },
  { routeKey: 'POST /v1/sessions', functionName: 'http-create-session', auth: true },
  { routeKey: 'GET /v1/sessions', functionName: 'http-list-sessions', auth: true },
  { routeKey: 'GET /v1/sessions/{id}', functionName: 'http-get-session', auth: true },
  { routeKey: 'DELETE /v1/sessions/{id}', functionName: 'http-close-session', auth: true },
  /** The live-view page; it authenticates with the ticket in its query string. */
  { routeKey: 'GET /v1/sessions/{id}/live', functionName: 'http-live-view', auth: false },
  { routeKey: 'GET /v1/limits', functionName: 'http-get-limits', auth: true },
  { routeKey: 'GET /v1/pressure', functionName: 'http-get-pressure', auth: false },
  { routeKey: 'GET /health', functionName: 'http-health', auth: false },
  /** The MCP server (Streamable HTTP, stateless): JSON-RPC over POST; GET and DELETE answer 405. */
  { routeKey: 'POST /mcp', functionName: 'http-mcp', auth: true },
  { routeKey: 'GET /mcp', functionName: 'http-mcp', auth: true },
  { routeKey: 'DELETE /mcp', functionName: 'http-mcp', auth: true },
  /** The OpenAPI 3.1 document of this API, generated from the schemas that validate requests. */
  { routeKey: 'GET /openapi.json', functionName: 'http-get-openapi', auth: false },
  /** The API reference page, and the renderer's script it loads (served here: no CDN). */
  { routeKey: 'GET /docs', functionName: 'http-docs', auth: false },
  { routeKey: 'GET /docs/api-reference.js', functionName: 'http-docs', auth: false },
] as const;

/**
 * The API reference page's renderer (Scalar's standalone bundle), which `http-docs` serves
 * itself: the CDK copies it from node_modules to beside the function's bundle, where the
 * function reads it.
 */
export const DOCS_RENDERER = {
  /** In node_modules. */
  packageFile: '@scalar/api-reference/dist/browser/standalone.js',
  /** Beside the deployed function's `index.mjs`. */
  bundledFile: 'api-reference.js',
} as const;

/** `GET /v1/tasks/{id}`, …: one route of the HTTP API. */
export type HttpRouteKey = (typeof HTTP_ROUTES)[number]['routeKey'];

export type HttpFunctionName = (typeof HTTP_ROUTES)[number]['functionName'];

/**
 * How a function uses the state table:
 * - `readWrite`: rows are created and moved through their states (conditional writes).
 * - `read`: rows are only read.
 * - `describe`: only `DescribeTable`, the health check's ping.
 * - `readAndDescribe`: rows are read, and the health check pings the table (`/v1/pressure`).
 */
export type TableAccess = 'readWrite' | 'read' | 'describe' | 'readAndDescribe';

/**
 * How a function uses a tier's queue:
 * - `send`: enqueues messages.
 * - `run`: what a runner does: receives and deletes messages, and sends one (delayed) to
 *   retry or hand back a task.
 * - `attributes`: only `GetQueueAttributes`, the health check's ping and the queue depth.
 */
export type QueueAccess = 'send' | 'run' | 'attributes';

/**
 * How a function uses the artifact bucket: the artifact accessors it is (`PutObject` and
 * `GetObject` on the key layouts `ARTIFACT_KEYS` declares for them), or `head`: only
 * `HeadBucket` (which IAM checks as `ListBucket`), the health check's ping.
 */
export type BucketAccess = readonly [ArtifactAccessor, ...ArtifactAccessor[]] | 'head';

/**
 * What one function uses, declared once. The CDK app wires each entry (the env var that
 * names the resource, and the grant for that access) and the function's config requires
 * exactly the env vars its entries imply: a function that uses no queue is told of none
 * and may call none.
 */
export interface FunctionResources {
  readonly table?: TableAccess;
  readonly fleetQueue?: QueueAccess;
  readonly lambdaQueue?: QueueAccess;
  readonly artifacts?: BucketAccess;
  /** Signs or checks session tickets, or signs inbox calls: the ticket secret. */
  readonly tickets?: true;
  /** Public URLs it hands out: the WebSocket API's, the CDP router's. */
  readonly publicUrls?: readonly ('websocket' | 'cdp')[];
  /** Accepts tasks: checks their URL against the egress policy, remembers Idempotency-Keys. */
  readonly acceptsTasks?: true;
  /** Calls a worker's inbox (signed with the ticket key): runs in the fleet's VPC. */
  readonly workerInbox?: true;
  /**
   * Lists tenants' task history: `Query` on the task-history index (`STATE_TABLE`), which
   * no function that doesn't declare this may read.
   */
  readonly taskHistory?: true;
}

/**
 * The resources of each HTTP function. Every authenticated route writes the tenant's
 * rate-limit bucket, so each reads and writes the table.
 */
export const HTTP_FUNCTION_RESOURCES = {
  'http-create-task': {
    table: 'readWrite',
    fleetQueue: 'send',
    lambdaQueue: 'send',
    artifacts: ['taskReader'],
    acceptsTasks: true,
  },
  // One answer per item, each submitted exactly as POST /v1/tasks submits one.
  'http-create-task-batch': {
    table: 'readWrite',
    fleetQueue: 'send',
    lambdaQueue: 'send',
    artifacts: ['taskReader'],
    acceptsTasks: true,
  },
  'http-get-task': { table: 'readWrite', artifacts: ['taskReader'] },
  // The tenant's history, from its partition of the task-history index.
  'http-list-tasks': { table: 'readWrite', artifacts: ['taskReader'], taskHistory: true },
  'http-cancel-task': { table: 'readWrite', artifacts: ['taskReader'] },
  'http-get-limits': { table: 'readWrite' },
  // Queue depths of both tiers and a count on the sweep index; `accepting` is the health
  // check (DescribeTable, GetQueueAttributes, HeadBucket).
  'http-get-pressure': {
    table: 'readAndDescribe',
    fleetQueue: 'attributes',
    lambdaQueue: 'attributes',
    artifacts: 'head',
  },
  // Sessions: the row, the fleet queue's start message, and tickets in cdpUrl and liveViewUrl.
  'http-create-session': {
    table: 'readWrite',
    fleetQueue: 'send',
    tickets: true,
    publicUrls: ['websocket', 'cdp'],
  },
  'http-list-sessions': { table: 'readWrite', tickets: true, publicUrls: ['websocket', 'cdp'] },
  'http-get-session': { table: 'readWrite', tickets: true, publicUrls: ['websocket', 'cdp'] },
  // A close also tells the session's worker, through its inbox.
  'http-close-session': {
    table: 'readWrite',
    tickets: true,
    publicUrls: ['websocket', 'cdp'],
    workerInbox: true,
  },
  // Only checks the ticket and renders a page that opens the WebSocket API.
  'http-live-view': { tickets: true, publicUrls: ['websocket'] },
  'http-health': { table: 'describe', fleetQueue: 'attributes', artifacts: 'head' },
  // The API's description and its reference page: built in the function, nothing to reach.
  'http-get-openapi': {},
  'http-docs': {},
  // MCP's tools: tasks (submitted, read, their artifacts read back to answer inline), and
  // sessions (created, closed, and driven through their worker's inbox).
  'http-mcp': {
    table: 'readWrite',
    fleetQueue: 'send',
    lambdaQueue: 'send',
    artifacts: ['taskReader'],
    acceptsTasks: true,
    tickets: true,
    publicUrls: ['websocket', 'cdp'],
    workerInbox: true,
  },
} as const satisfies Record<HttpFunctionName, FunctionResources>;

/**
 * WebSocket API routes (route selection expression `$request.body.action`) and the
 * function that serves each, with API Gateway's limits the protocol is shaped to fit.
 */
export const WS_ROUTES = [
  { routeKey: '$connect', functionName: 'ws-connect' },
  { routeKey: '$disconnect', functionName: 'ws-disconnect' },
  { routeKey: 'attach', functionName: 'ws-attach' },
  { routeKey: 'detach', functionName: 'ws-attach' },
  { routeKey: 'command', functionName: 'ws-command' },
  { routeKey: 'screencast', functionName: 'ws-command' },
  { routeKey: '$default', functionName: 'ws-default' },
] as const;

export type WsFunctionName = (typeof WS_ROUTES)[number]['functionName'];

export const WEBSOCKET = {
  routeSelectionExpression: '$request.body.action',
  /** API Gateway: a frame is at most 32 KB, a message (and a PostToConnection) 128 KB. */
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  /** API Gateway closes a connection idle for 10 minutes, and any connection after 2 hours. */
  idleTimeoutMs: 10 * 60_000,
  maxConnectionMs: 2 * 60 * 60_000,
} as const;

/** Live sessions: bounds of their timeouts and the worker's inbox/CDP port. */
export const SESSIONS = {
  defaultTimeoutMs: 15 * 60_000,
  maxTimeoutMs: 6 * 60 * 60_000,
  defaultIdleTimeoutMs: 5 * 60_000,
  minIdleTimeoutMs: 1_000,
  /** A CDP URL's ticket lives this long; GET the session for a fresh one. */
  ticketTtlSeconds: 10 * 60,
  /**
   * Playwright clients one session takes at once: each has a Playwright server of its own
   * in the worker (a few MB, and a CDP connection), which the session's neighbours share.
   */
  maxPlaywrightClients: 4,
  inboxPort: 8090,
} as const;

/**
 * How the ticket secret is read at run time, and how long the key it replaced is still
 * accepted after a rotation. After `put-secret-value` at T, a process that read the secret
 * just before T keeps signing with the old key until its cache expires (T + cacheSeconds);
 * a ticket it issued then is valid for SESSIONS.ticketTtlSeconds more, an inbox call for
 * INBOX_MAX_SKEW_SECONDS (60). So the previous key verifies until
 * T + cacheSeconds + ticketTtlSeconds, plus a minute for clocks; not after.
 */
export const TICKET_SECRET = {
  cacheSeconds: 5 * 60,
  /**
   * A signature no known key matches makes the process re-read the secret (a signer may
   * already have the new key), at most this often, so forged tickets can't drive calls.
   */
  refreshFloorSeconds: 10,
  previousAcceptedSeconds: 5 * 60 + SESSIONS.ticketTtlSeconds + 60,
} as const;

/**
 * The CDP router's public path (`cdpUrl` is `<CDP_PUBLIC_URL><path>?ticket=…`): with the
 * Playwright router's (PLAYWRIGHT_ROUTE), the only paths the public load balancer forwards
 * to the workers; their inbox and health check are not reachable from outside.
 */
export const CDP_ROUTE = {
  path: (sessionId: string) => `/v1/sessions/${sessionId}/cdp`,
  /** The same path as a load balancer path pattern (`*` matches any characters). */
  loadBalancerPathPattern: '/v1/sessions/*/cdp',
} as const;

/**
 * Playwright's own protocol for a live session (`chromium.connect(playwrightUrl)`):
 * `playwrightUrl` is `<CDP_PUBLIC_URL><path>?ticket=…`, with the same ticket as `cdpUrl`,
 * behind the same load balancer.
 */
export const PLAYWRIGHT_ROUTE = {
  path: (sessionId: string) => `/v1/sessions/${sessionId}/playwright`,
  /** The same path as a load balancer path pattern (`*` matches any characters). */
  loadBalancerPathPattern: '/v1/sessions/*/playwright',
} as const;

/**
 * The Playwright client versions a live session speaks to, by major.minor (Playwright's
 * protocol changes between minors and its server refuses any other), each with the package
 * (package.json) whose server answers it. Outside this window: `cdpUrl` with `connectOverCDP`.
 */
export const PLAYWRIGHT_SERVERS = {
  '1.63': 'playwright-core-1.63',
  '1.64': 'playwright-core-1.64',
  '1.65': 'playwright-core',
} as const;

/** The Lambda tier's SQS-triggered runner. */
export const LAMBDA_RUNNER = {
  functionName: 'sqs-run-task',
  batchSize: 1,
  maxConcurrency: 20,
  memoryMb: 2048,
} as const;

/** The webhook deliverer: one event per invocation, from the webhook queue. */
export const WEBHOOK_DELIVERER = {
  functionName: 'sqs-deliver-webhook',
  batchSize: 1,
  maxConcurrency: 10,
  /** One attempt (10 s at most by default) per target, plus the reads and writes around them. */
  timeoutSeconds: 40,
} as const;

/** The scheduled sweeper function and how often AWS runs it. */
export const SWEEPER = { functionName: 'schedule-sweep', rateMinutes: 1 } as const;

/** CloudWatch metric namespace and names (EMF). Dashboards and alarms use these too. */
export const METRICS = {
  namespace: 'Browserfleet',
  tasksSubmitted: 'TasksSubmitted',
  /** Submits answered from the result cache (a subset of TasksSubmitted): no browser ran. */
  resultCacheHits: 'ResultCacheHits',
  tasksStarted: 'TasksStarted',
  tasksSucceeded: 'TasksSucceeded',
  tasksFailed: 'TasksFailed',
  tasksRetried: 'TasksRetried',
  tasksHandedBack: 'TasksHandedBack',
  tasksCancelled: 'TasksCancelled',
  leaseLost: 'LeaseLost',
  sweeperRequeued: 'SweeperRequeued',
  sweeperResent: 'SweeperResent',
  webhooksSent: 'WebhooksSent',
  webhookDeliveries: 'WebhookDeliveries',
  queueWaitMs: 'QueueWaitMs',
  runMs: 'RunMs',
  browserMs: 'BrowserMs',
  authFailures: 'AuthFailures',
  rateLimited: 'RateLimited',
  quotaExceeded: 'QuotaExceeded',
  destinationsBlocked: 'DestinationsBlocked',
  sessionsCreated: 'SessionsCreated',
  sessionsLive: 'SessionsLive',
  sessionsEnded: 'SessionsEnded',
  sessionMinutes: 'SessionMinutes',
  sessionCommands: 'SessionCommands',
  sessionCommandMs: 'SessionCommandMs',
  screencastFrames: 'ScreencastFrames',
  /**
   * A Chromium that went away on its own (not recycled, not shut down): a task pool's
   * browser (`where: task`) or a live session's (`where: session`).
   */
  browserCrashes: 'BrowserCrashes',
  /** An unhandled rejection or uncaught exception caught by the process guard (`kind`). */
  processFaults: 'ProcessFaults',
  /** Per worker, every minute: live sessions it hosts. */
  sessionSlotsUsed: 'SessionSlotsUsed',
  /**
   * Per worker, every minute: the percentage of its slots at work (tasks running plus
   * sessions hosted, over task slots plus session slots). The fleet scales on the average.
   */
  workerUtilization: 'WorkerUtilization',
} as const;

/**
 * The fleet's ECS names, fixed so the worker can be told its own service (a reference to
 * the service from its task definition would be a cycle): it reads the service's primary
 * deployment to learn it has been superseded (container/task-protection.ts).
 */
export const FLEET = {
  clusterName: (stage: string) => `browserfleet-${stage}`,
  serviceName: (stage: string) => `browserfleet-${stage}-workers`,
} as const;

export type MetricName = Exclude<(typeof METRICS)[keyof typeof METRICS], typeof METRICS.namespace>;

/**
 * Dimensions every data point carries. `stage`: the deployment's stage (`STAGE`), so dev
 * and prod in one account are separate series; alarms, dashboard and scaling read by it.
 */
export const METRIC_DIMENSIONS = { stage: 'Stage' } as const;

/** Names of stage-qualified resources: `browserfleet-state-dev`, … */
export const resourceName = (baseName: string, stage: string): string => `${baseName}-${stage}`;
