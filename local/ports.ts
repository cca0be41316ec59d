/**
 * Free ports for the clouds tests and measuring scripts start. They come from below Linux's
 * ephemeral range (32768–60999): a port the kernel hands out with `listen(0)` is free again
 * once closed, and any outgoing connection may be given it before the emulator binds it.
 * Below that range only another test's pick can collide, and `startLocalCloud` starts again
 * on fresh ports if one does.
 */
import { createServer } from 'node:net';

const RANGE = { from: 20_000, to: 32_000 } as const;

/** `npm start` listens on PORT and the five after it (see `pickPorts`). */
export const PORTS_PER_CLOUD = 6;

const isFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** The first of `count` consecutive ports that are free now. */
export const freePorts = async (count = 1): Promise<number> => {
  for (;;) {
    const base = RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
};

/** Where one local cloud listens. */
export interface CloudPorts {
  gateway: number;
  dynamodb: number;
  sqs: number;
  s3: number;
  ws: number;
  inbox: number;
}

/**
 * Ports: the HTTP gateway on `port`, then 3001 DynamoDB, 3002 SQS, 3003 S3, 3004 the
 * WebSocket gateway and 3005 the worker's inbox and CDP router by default, so URLs stay
 * stable across restarts. Port 0 picks free ports for all (tests).
 */
export const pickPorts = async (port: number): Promise<CloudPorts> =>
  port === 0
    ? {
        gateway: 0,
        dynamodb: await freePorts(),
        sqs: 0,
        s3: 0,
        ws: await freePorts(),
        inbox: await freePorts(),
      }
    : { gateway: port, dynamodb: port + 1, sqs: port + 2, s3: port + 3, ws: port + 4, inbox: port + 5 };
