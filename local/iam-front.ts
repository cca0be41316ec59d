/**
 * IAM in the local cloud. The emulators accept any credentials; AWS doesn't. Each runtime
 * part signs its calls with an access key id of its own (`accessKeyFor`), and the front
 * (local/fault-front.ts, which asks `admit` before anything else) judges every call as AWS
 * would: the action, the resource ARN and the condition keys the request carries, against
 * that part's role policies from the synthesized templates (local/iam-policies.ts), with a
 * maintained evaluator. A denied call is answered in the service's own wire shape, so the
 * SDK raises exactly the error it would on AWS and the platform's handling of it is tested.
 * What a call asks for is read in local/iam-requests.ts; how AWS says no, in
 * local/iam-answers.ts.
 *
 * The local administrator's key (the emulators' placeholder, which test set-up and
 * provisioning use) is a principal with every permission, as a developer's own admin
 * credentials are; any other key no part owns is refused as an unknown key.
 *
 * Judged: identity policies. Not judged: resource policies (the bucket's and queues'
 * policies only refuse plain HTTP and other accounts, neither of which happens here), SCPs,
 * and the Lambda service's own calls (the SQS event source polls with the function's role
 * on AWS; here local/lambda-tier.ts polls the emulator directly).
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Answer, FaultService } from './aws-faults.js';
import { accessDenied, unknownKey } from './iam-answers.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type RolePolicySet } from './iam-policies.js';
import { type AuthorizationRequest, authorizationRequests } from './iam-requests.js';

/** The key s3rver knows (and every emulator accepts): the local administrator's. */
export const ADMIN_ACCESS_KEY_ID = 'S3RVER';

/** An `AKIA…` key id per part, alphanumeric as DynamoDB Local requires. */
export const accessKeyFor = (part: string): string =>
  `AKIA${createHash('sha256').update(part).digest('hex').slice(0, 16).toUpperCase()}`;

export interface Denial {
  part: string;
  service: FaultService;
  action: string;
  resource: string;
  explicit: boolean;
}

/** Calls of one part to one service operation, as AWS would bill and meter them. */
export interface CallCount {
  /** The runtime part (`http-create-task`, `fleet-worker`, …), or `admin` (set-up, provisioning). */
  part: string;
  service: FaultService;
  /** `PutItem`, `TransactWriteItems`, `SendMessage`, `s3:PutObject`, … */
  operation: string;
  calls: number;
  /** What IAM judged: a transaction's or a batch's items; 1 for a plain call. */
  items: number;
}

export interface IamFront {
  /** Whether to forward the request (undefined) or answer with this refusal. May rewrite the request's key. */
  admit(service: FaultService, req: IncomingMessage, body: Buffer): Promise<Answer | undefined>;
  /** The access key id the part `part` signs with. */
  accessKeyFor(part: string): string;
  /** Every call refused so far. */
  denials(): readonly Denial[];
  /** Every call seen so far, counted by part and operation (refused ones too). */
  calls(): CallCount[];
}

// ---------------------------------------------------------------- who is calling

const CREDENTIAL_IN_HEADER = /Credential=([^/,\s]+)\//;

/** The access key id a SigV4 request is signed with: the Authorization header, or a presigned URL's query. */
const accessKeyOf = (req: IncomingMessage): { key: string | undefined; presigned: boolean } => {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    return { key: CREDENTIAL_IN_HEADER.exec(authorization)?.[1], presigned: false };
  }
  const credential = new URL(req.url ?? '/', 'http://front').searchParams.get('X-Amz-Credential');
  return { key: credential?.split('/')[0], presigned: credential !== null };
};

/**
 * s3rver refuses keys it doesn't know (the others accept any): once judged, the call goes
 * on as the administrator's. SigV4 doesn't sign the key id itself (only its scope), and
 * s3rver doesn't check SigV4 signatures, so the rewritten request is still well-formed.
 */
const signAsAdministrator = (req: IncomingMessage): void => {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    req.headers.authorization = authorization.replace(
      CREDENTIAL_IN_HEADER,
      `Credential=${ADMIN_ACCESS_KEY_ID}/`,
    );
    return;
  }
  req.url = (req.url ?? '/').replace(
    /([?&]X-Amz-Credential=)[^%&/]+/,
    (_, prefix: string) => `${prefix}${ADMIN_ACCESS_KEY_ID}`,
  );
};

// ---------------------------------------------------------------- the front

/** The operation a call is billed as: DynamoDB's and SQS's target, S3's (first) action. */
const operationName = (
  service: FaultService,
  req: IncomingMessage,
  requests: AuthorizationRequest[],
): string => {
  const target = req.headers['x-amz-target'];
  if (service !== 's3' && typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return requests[0]?.action ?? 'Unknown';
};

export interface IamFrontOptions {
  /** Part → role policies, already localized (local/iam-policies.ts). */
  policies: RolePolicySet;
  /** Append each denial here as a JSON line (to collect what a whole test run was refused). */
  denialLog?: string | undefined;
}

const MAX_REMEMBERED_VERDICTS = 10_000;

/** An IAM front over the role policies of every runtime part. */
export const createIamFront = ({ policies, denialLog }: IamFrontOptions): IamFront => {
  const partsByKey = new Map(Object.keys(policies).map((part) => [accessKeyFor(part), part]));
  const denials: Denial[] = [];
  const ledger = new Map<string, CallCount>();
  const record = (part: string, service: FaultService, operation: string, items: number) => {
    const key = `${part}\u0000${service}\u0000${operation}`;
    const entry = ledger.get(key) ?? { part, service, operation, calls: 0, items: 0 };
    entry.calls += 1;
    entry.items += Math.max(1, items);
    ledger.set(key, entry);
  };
  // The same call is judged the same way every time: evaluate it once.
  const verdicts = new Map<string, Promise<'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'>>();

  const evaluate = (part: string, principal: string, request: AuthorizationRequest) => {
    const cacheKey = JSON.stringify([part, request]);
    let verdict = verdicts.get(cacheKey);
    if (verdict === undefined) {
      const role = policies[part];
      verdict = runSimulation(
        {
          identityPolicies: (role?.policies ?? []).map((p) => ({
            name: p.name,
            policy: { Version: '2012-10-17', Statement: p.statements },
          })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: undefined,
          request: {
            action: request.action,
            principal,
            resource: { resource: request.resource, accountId: LOCAL_ACCOUNT },
            contextVariables: {
              // The SDK calls AWS over TLS; only the loopback hop to the front is plain.
              'aws:SecureTransport': 'true',
              'aws:PrincipalArn': principal,
              'aws:PrincipalAccount': LOCAL_ACCOUNT,
              'aws:RequestedRegion': LOCAL_REGION,
              ...request.context,
            },
          },
        } as Parameters<typeof runSimulation>[0],
        {},
      ).then((response) => {
        if (response.resultType === 'error') {
          // An action the evaluator doesn't know is not one AWS would allow.
          return 'ImplicitlyDenied' as const;
        }
        return response.overallResult as 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
      });
      // Object keys are per task: a long `npm start` would otherwise remember every one.
      if (verdicts.size >= MAX_REMEMBERED_VERDICTS) verdicts.clear();
      verdicts.set(cacheKey, verdict);
    }
    return verdict;
  };

  const admit: IamFront['admit'] = async (service, req, body) => {
    const { key, presigned } = accessKeyOf(req);
    const part = key === ADMIN_ACCESS_KEY_ID ? 'admin' : key === undefined ? undefined : partsByKey.get(key);
    if (part === undefined) return unknownKey(service, req.method);
    let requests: AuthorizationRequest[];
    try {
      requests = authorizationRequests(service, req, body, presigned);
    } catch {
      // A body the front can't read: the emulator answers it as malformed, as AWS would.
      requests = [];
    }
    record(part, service, operationName(service, req, requests), requests.length);
    if (part === 'admin') return undefined;
    const role = policies[part];
    const principal = `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${role?.roleName ?? part}/${part}`;
    for (const request of requests) {
      const verdict = await evaluate(part, principal, request);
      if (verdict === 'Allowed') continue;
      const denial: Denial = {
        part,
        service,
        action: request.action,
        resource: request.resource,
        explicit: verdict === 'ExplicitlyDenied',
      };
      denials.push(denial);
      if (denialLog !== undefined) appendFileSync(denialLog, `${JSON.stringify(denial)}\n`);
      return accessDenied(service, principal, request, denial.explicit, req.method);
    }
    if (service === 's3') signAsAdministrator(req);
    return undefined;
  };

  return {
    admit,
    accessKeyFor,
    denials: () => [...denials],
    calls: () => [...ledger.values()].map((entry) => ({ ...entry })),
  };
};
