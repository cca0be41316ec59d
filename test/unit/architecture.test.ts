/**
 * The import rules of the codebase (ARCHITECTURE.md), read from the imports themselves by
 * dependency-cruiser: a forbidden import anywhere fails this test, naming the file, the
 * import and the rule.
 *
 * - cdk/ imports only the contracts from shared/ (and nothing of the runtime folders);
 * - the core and the domain (shared/ minus adapters/ and composition/) import no adapter,
 *   no AWS SDK, Puppeteer, middy, ws or Powertools, and no network or file-system module;
 * - tasks and sessions don't import each other: what both use lives in shared/core/;
 * - adapters don't import use cases (only ports and the domain's vocabulary);
 * - functions/ and container/ never import each other; production code never imports
 *   test/, local/, ops/ or bench/;
 * - no import cycles, and every relative import resolves.
 *
 * Every file of a capability folder is classified below as a use case or vocabulary, so a
 * new file has to say which it is.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CAPABILITIES = [
  'task',
  'session',
  'tenancy',
  'dlq',
  'health',
  'egress',
  'auth',
  'metrics',
  'agents',
] as const;

/** Files that run a use case: they orchestrate ports; adapters must not import them. */
const USE_CASES: Record<(typeof CAPABILITIES)[number], readonly string[]> = {
  task: [
    'cancel-task',
    'get-task',
    'list-tasks',
    'postpone-message',
    'run-task',
    'submit-batch',
    'submit-task',
    'sweep-tasks',
    'wait-for-task',
  ],
  session: [
    // Hosting a session on a worker: the host, each hosted session and its parts.
    'host-session',
    'hosted-session',
    'attached-clients',
    'command-runner',
    'screencast-relay',
    'session-commands',
    'session-downloads',
    // The APIs' use cases, and the session writes every side shares.
    'sessions-api',
    'websocket-api',
    'session-calls',
    'session-events',
    'sweep-sessions',
  ],
  tenancy: ['manage-tenants', 'rate-limit', 'verify-usage'],
  dlq: ['dead-letters'],
  health: ['check-health', 'read-pressure'],
  egress: [],
  auth: ['api-key'],
  metrics: [],
  // MCP's tools, over the task and session use cases.
  agents: ['mcp-tools'],
};

/** Ports, entities, state machines, schemas, codecs and errors: what the use cases speak. */
const VOCABULARY: Record<(typeof CAPABILITIES)[number], readonly string[]> = {
  task: [
    'abort-reason',
    'apply-event',
    'bounded-fields',
    'history-cursor',
    'ports',
    // The result cache's keys, entries and freshness: pure, spoken by submit, run and adapters.
    'result-cache',
    'retry-policy',
    'run-metrics',
    'task',
    // How long recent tasks took, for the held answer's read schedule: pure, no port.
    'task-durations',
    'task-input',
    'task-view',
  ],
  session: [
    'inbox-protocol',
    'playwright-versions',
    'ports',
    'session',
    'session-input',
    'session-lease',
    'session-log',
    'ticket',
    'ticket-keys',
    'ws-errors',
  ],
  tenancy: ['ports', 'quota-errors', 'tenant', 'tenant-limits-cache', 'token-bucket'],
  dlq: ['ports'],
  health: ['ports', 'reports'],
  egress: ['cdp-command-guard', 'egress-policy', 'playwright-command-guard'],
  auth: ['ports'],
  metrics: ['metrics'],
  agents: ['tool-output'],
};

const useCasePaths = CAPABILITIES.flatMap((c) => USE_CASES[c].map((f) => `shared/${c}/${f}\\.ts`));

/** shared/ without its I/O: the core, the capabilities, and the top-level modules. */
const DOMAIN = `^shared/((core|${CAPABILITIES.join('|')})/|[^/]+\\.ts$)`;

const RULES: IForbiddenRuleType[] = [
  {
    name: 'cdk-imports-only-contracts',
    comment: 'The infrastructure shares names with the code through the contracts, nothing else.',
    severity: 'error',
    from: { path: '^cdk/' },
    to: { path: '^(shared|functions|container|local|ops|bench|test)/', pathNot: '^shared/contracts\\.ts$' },
  },
  {
    name: 'domain-imports-no-adapter',
    comment: 'The core and the domain talk to I/O through ports; adapters plug into them.',
    severity: 'error',
    from: { path: DOMAIN },
    to: { path: '^shared/(adapters|composition)/' },
  },
  {
    name: 'domain-imports-no-sdk',
    comment: 'No AWS SDK, Puppeteer, middy, ws or Powertools in the domain.',
    severity: 'error',
    from: { path: DOMAIN },
    to: {
      dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
      path: 'node_modules/(@aws-sdk|@smithy|puppeteer-core|@sparticuz|@middy|ws|@aws-lambda-powertools)/',
    },
  },
  {
    name: 'domain-does-no-io',
    comment: 'Sockets, HTTP, files and processes are adapters (node:net for address maths only).',
    severity: 'error',
    from: { path: DOMAIN },
    to: {
      dependencyTypes: ['core'],
      path: '^(node:)?(http|https|http2|dgram|fs|fs/promises|child_process|dns)$',
    },
  },
  {
    name: 'session-not-task',
    comment: 'Sessions and tasks are separate capabilities; what both use lives in shared/core/.',
    severity: 'error',
    from: { path: '^shared/session/' },
    to: { path: '^shared/task/' },
  },
  {
    name: 'task-not-session',
    comment: 'Sessions and tasks are separate capabilities; what both use lives in shared/core/.',
    severity: 'error',
    from: { path: '^shared/task/' },
    to: { path: '^shared/session/' },
  },
  {
    name: 'adapters-not-use-cases',
    comment: 'An adapter implements a port; it never calls a use case.',
    severity: 'error',
    from: { path: '^shared/adapters/' },
    to: { path: `^(${useCasePaths.join('|')})$` },
  },
  {
    name: 'functions-not-container',
    severity: 'error',
    from: { path: '^functions/' },
    to: { path: '^container/' },
  },
  {
    name: 'container-not-functions',
    severity: 'error',
    from: { path: '^container/' },
    to: { path: '^functions/' },
  },
  {
    name: 'production-not-tooling',
    comment: 'What deploys never imports the tests, the local cloud, the operator tools or the bench.',
    severity: 'error',
    from: { path: '^(shared|functions|container|cdk)/' },
    to: { path: '^(test|local|ops|bench)/' },
  },
  {
    name: 'no-cycles',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
  {
    name: 'relative-imports-resolve',
    severity: 'error',
    from: {},
    to: { couldNotResolve: true, path: '^\\.' },
  },
];

/** Cruises `roots` (relative to `baseDir`) under `RULES`; answers the violations. */
const importViolations = async (baseDir: string, roots: string[]): Promise<string[]> => {
  const result = await cruise(
    roots,
    {
      baseDir,
      tsConfig: { fileName: 'tsconfig.json' },
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      validate: true,
      ruleSet: { forbidden: RULES },
    },
    // NodeNext: `./x.js` in the source is `./x.ts` on disk.
    { extensionAlias: { '.js': ['.ts', '.js'] } },
    { tsConfig: extractTSConfig(join(baseDir, 'tsconfig.json')) },
  );
  const output = result.output as ICruiseResult;
  return output.summary.violations.map(
    (v) =>
      `${v.rule.name}: ${v.from} → ${v.to}${v.cycle === undefined ? '' : ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})`}`,
  );
};

const SOURCE_ROOTS = ['shared', 'functions', 'container', 'cdk', 'local', 'ops', 'bench'];

describe('architecture', { timeout: 60_000 }, () => {
  it('every import follows the rules', async () => {
    expect(await importViolations(ROOT, SOURCE_ROOTS)).toEqual([]);
  });

  it('fails on one forbidden import of each kind', async () => {
    // A tree shaped like this one, in which each file below breaks one rule.
    const dir = mkdtempSync(join(tmpdir(), 'bf-architecture-'));
    const files: Record<string, string> = {
      'tsconfig.json': readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'),
      'shared/contracts.ts': 'export const ENV = {};\n',
      'shared/task/run-task.ts':
        "import { ENV } from '../contracts.js';\nexport const runTask = () => ENV;\n",
      'shared/session/host-session.ts':
        "import { runTask } from '../task/run-task.js';\nexport const host = runTask;\n",
      'shared/adapters/s3-store.ts':
        "import { runTask } from '../task/run-task.js';\nexport const store = runTask;\n",
      'shared/core/clock.ts':
        "import { store } from '../adapters/s3-store.js';\nexport const clock = store;\n",
      'cdk/stack.ts':
        "import { runTask } from '../shared/task/run-task.js';\nexport const stack = runTask;\n",
      'functions/handler.ts':
        "import { worker } from '../container/main.js';\nexport const handler = worker;\n",
      'container/main.ts': "import { ENV } from '../shared/contracts.js';\nexport const worker = ENV;\n",
      'container/probe.ts':
        "import { handler } from '../functions/handler.js';\nexport const probe = handler;\n",
      'shared/tenancy/a.ts': "import { b } from './b.js';\nexport const a = (): unknown => b;\n",
      'shared/tenancy/b.ts': "import { a } from './a.js';\nexport const b = (): unknown => a;\n",
      'shared/egress/policy.ts':
        "import { readFileSync } from 'node:fs';\nexport const policy = readFileSync;\n",
      'shared/metrics/emit.ts':
        "import { fixture } from '../../test/fixture.js';\nexport const emit = fixture;\n",
      'test/fixture.ts': 'export const fixture = 1;\n',
      'shared/task/socket.ts': "import { WebSocket } from 'ws';\nexport const socket = WebSocket;\n",
      'node_modules/ws/package.json': '{ "name": "ws", "version": "8.0.0", "main": "index.js" }\n',
      'node_modules/ws/index.js': 'exports.WebSocket = class {};\n',
    };
    try {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      const violations = await importViolations(dir, ['shared', 'cdk', 'functions', 'container']);
      expect(violations.sort()).toEqual([
        'adapters-not-use-cases: shared/adapters/s3-store.ts → shared/task/run-task.ts',
        'cdk-imports-only-contracts: cdk/stack.ts → shared/task/run-task.ts',
        'container-not-functions: container/probe.ts → functions/handler.ts',
        'domain-does-no-io: shared/egress/policy.ts → fs',
        'domain-imports-no-adapter: shared/core/clock.ts → shared/adapters/s3-store.ts',
        'domain-imports-no-sdk: shared/task/socket.ts → node_modules/ws/index.js',
        'functions-not-container: functions/handler.ts → container/main.ts',
        'no-cycles: shared/tenancy/a.ts → shared/tenancy/b.ts (cycle: shared/tenancy/b.ts → shared/tenancy/a.ts)',
        'production-not-tooling: shared/metrics/emit.ts → test/fixture.ts',
        'session-not-task: shared/session/host-session.ts → shared/task/run-task.ts',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every file of a capability is classified as a use case or vocabulary', () => {
    for (const capability of CAPABILITIES) {
      const files = readdirSync(join(ROOT, 'shared', capability))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => f.replace(/\.ts$/, ''))
        .sort();
      expect(files, `shared/${capability}/`).toEqual(
        [...USE_CASES[capability], ...VOCABULARY[capability]].sort(),
      );
    }
  });

  it('the domain never reads process.env (only composition roots do)', () => {
    const domainFiles = [
      ...readdirSync(join(ROOT, 'shared'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join('shared', f)),
      ...['core', ...CAPABILITIES].flatMap((dir) =>
        readdirSync(join(ROOT, 'shared', dir), { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => join('shared', dir, f)),
      ),
    ];
    // Code only: a comment may say who does read it.
    const code = (f: string) =>
      readFileSync(join(ROOT, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
    expect(domainFiles).toContain('shared/config.ts');
    const readers = domainFiles.filter((f) => /process\.env\b/.test(code(f)));
    expect(readers).toEqual([]);
  });
});
