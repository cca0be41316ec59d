/**
 * Faults on the AWS side of the local cloud, on purpose. An HTTP front between the
 * platform's SDK clients and one emulator that, at a configured rate and seed, answers the
 * way AWS does under pressure, in AWS's own wire shapes, so the SDK raises the very
 * exceptions (and makes the very retry decisions) it would on AWS. The emulators stay
 * unmodified: this is the only place that knows.
 *
 * A fault is decided before anything is forwarded, so the platform's invariants can be held
 * to account: a refused request never reaches the emulator (nothing was applied, exactly as
 * when AWS refuses), and a slow one is held, then forwarded whole. There is deliberately no
 * "applied, then the answer was lost" kind. The one fault that forwards part of a request
 * is `unprocessed-keys`: a batch read, which applies nothing.
 *
 * Knows nothing of the product: it reads only the protocol (the `X-Amz-Target` operation,
 * the number of items in a transaction).
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import {
  ALL_FAULT_KINDS,
  type Answer,
  applicable,
  FAULT_KINDS,
  type FaultService,
  refusal,
  splitBatchGet,
} from './aws-faults.js';

export interface FaultPlan {
  /** Share of requests answered with a fault, 0..1 (0: the front only forwards). */
  rate: number;
  /** Seeds the PRNG: the same seed and the same request order give the same faults. */
  seed: number;
  /** The longest a `slow` answer is held before it is forwarded, ms. */
  slowMs: number;
  /** Only these kinds (default: every kind of the service). */
  kinds?: readonly string[] | undefined;
}

export interface FaultFront {
  /** Where the SDK clients should send this service's calls. */
  endpoint: string;
  /** Requests seen, and faults injected by `service.kind`. */
  counts(): { requests: number; faults: Record<string, number> };
  stop(): Promise<void>;
}

/** mulberry32: a small, fast, seedable PRNG; [0, 1). */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** Each service draws from its own sequence, so adding S3 traffic doesn't move DynamoDB's faults. */
const SERVICE_SALT: Record<FaultService, number> = { dynamodb: 0x9e3779b9, sqs: 0x85ebca6b, s3: 0xc2b2ae35 };

/** The operation a request names: `TransactWriteItems`, `ReceiveMessage`, or the S3 method. */
const operationOf = (req: IncomingMessage): string => {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return req.method ?? 'GET';
};

const answerWith = (res: ServerResponse, req: IncomingMessage, answer: Answer): void => {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(req.method === 'HEAD' ? undefined : answer.body);
};

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/**
 * Decides, before any fault, whether a request may go on (undefined) or is refused with
 * this answer: IAM's place in the front (local/iam-front.ts). It may rewrite the request's
 * credentials for the emulator.
 */
export type Admit = (
  service: FaultService,
  req: IncomingMessage,
  body: Buffer,
) => Promise<Answer | undefined>;

/**
 * Starts a front for `service` on a free loopback port, forwarding to `target` (the
 * emulator's endpoint).
 */
export const startFaultFront = async (options: {
  service: FaultService;
  target: string;
  plan: FaultPlan;
  admit?: Admit | undefined;
}): Promise<FaultFront> => {
  const { service, plan, admit } = options;
  const serviceKinds: readonly string[] = FAULT_KINDS[service];
  const kinds = plan.kinds === undefined ? serviceKinds : serviceKinds.filter((k) => plan.kinds?.includes(k));
  const target = new URL(options.target);
  const random = seededRandom((plan.seed ^ SERVICE_SALT[service]) >>> 0);
  const agent = new Agent({ keepAlive: true });
  let requests = 0;
  const faults: Record<string, number> = {};
  const count = (kind: string) => {
    const key = `${service}.${kind}`;
    faults[key] = (faults[key] ?? 0) + 1;
  };

  /** `rewrite`: the emulator's 2xx body is read whole and answered changed (a partial batch). */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    rewrite?: (answer: Buffer) => Buffer,
  ) => {
    // The body was read whole, so the emulator needn't be asked to continue.
    const { expect: _expect, ...headers } = req.headers;
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // The host header stays the client's: the request was signed for it.
        headers: { ...headers, 'content-length': String(body.byteLength) },
        agent,
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        if (rewrite === undefined || status >= 300) {
          res.writeHead(status, answer.headers);
          answer.pipe(res);
          return;
        }
        void readBody(answer).then(
          (whole) => {
            const changed = rewrite(whole);
            res.writeHead(status, {
              ...answer.headers,
              'content-length': String(changed.byteLength),
              // DynamoDB's checksum of the body, which a client may check.
              'x-amz-crc32': String(crc32(changed)),
            });
            res.end(changed);
          },
          () => res.destroy(),
        );
      },
    );
    // The emulator went away (stopping): the client sees a reset, as a dropped connection.
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    requests++;
    void readBody(req)
      .then(async (body) => {
        // Two draws per request whatever the outcome, so one request's fate doesn't shift the next's.
        const roll = random();
        const pick = random();
        // AWS authorizes a call before it can be throttled or fail: a denied one meets no fault.
        const refused = await admit?.(service, req, body);
        if (refused !== undefined) return void answerWith(res, req, refused);
        const candidates = roll < plan.rate ? applicable(service, operationOf(req), kinds) : [];
        const kind = candidates[Math.floor(pick * candidates.length)];
        if (kind === undefined) return forward(req, res, body);
        if (kind === 'unprocessed-keys') {
          const split = splitBatchGet(body);
          if (split === undefined) return forward(req, res, body);
          count(kind);
          return forward(req, res, split.forward, split.rewrite);
        }
        count(kind);
        if (kind === 'slow') {
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * plan.slowMs)));
          if (!res.destroyed) forward(req, res, body);
          return;
        }
        // A connection dropped before the request got anywhere (a network blip, an LB reset).
        if (kind === 'connection-reset') return void req.socket.destroy();
        answerWith(res, req, refusal(service, kind, body, random));
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ requests, faults: { ...faults } }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
};

export type ServiceEndpoints = Record<FaultService, string>;

export interface FaultFronts {
  /** The fronts' endpoints, to give the platform instead of the emulators'. */
  endpoints: ServiceEndpoints;
  /** Requests seen per service and faults injected by `service.kind`, over all three. */
  counts(): { requests: Record<FaultService, number>; faults: Record<string, number> };
  stop(): Promise<void>;
}

/**
 * One front per emulator, each with its own sequence drawn from the one seed; `admit`
 * (IAM) judges each call first.
 */
export const startFaultFronts = async (
  targets: ServiceEndpoints,
  plan: FaultPlan,
  admit?: Admit,
): Promise<FaultFronts> => {
  const unknown = (plan.kinds ?? []).filter((k) => !ALL_FAULT_KINDS.has(k));
  if (unknown.length > 0 || !(plan.rate >= 0 && plan.rate <= 1)) {
    throw new BrowserfleetError(
      ERROR_CODES.CONFIG_INVALID,
      `Fault plan: ${unknown.length > 0 ? `unknown kinds ${unknown.join(', ')} (known: ${[...ALL_FAULT_KINDS].join(', ')})` : `rate ${plan.rate} is not within 0..1`}.`,
    );
  }
  const services = Object.keys(targets) as FaultService[];
  const fronts = await Promise.all(
    services.map((service) => startFaultFront({ service, target: targets[service], plan, admit })),
  );
  return {
    endpoints: Object.fromEntries(services.map((s, i) => [s, fronts[i]?.endpoint])) as ServiceEndpoints,
    counts: () => {
      const all = fronts.map((f) => f.counts());
      return {
        requests: Object.fromEntries(services.map((s, i) => [s, all[i]?.requests ?? 0])) as Record<
          FaultService,
          number
        >,
        faults: Object.assign({}, ...all.map((c) => c.faults)),
      };
    },
    stop: async () => {
      await Promise.all(fronts.map((f) => f.stop()));
    },
  };
};
