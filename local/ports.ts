/**
 * Free ports for the clouds tests and measuring scripts start. They come from below Linux's
 * ephemeral range (32768–60999): a port the kernel hands out with `listen(0)` is free again
 * once closed, and any outgoing connection may be given it before the emulator binds it.
 * Below that range only another test's pick can collide, and `startLocalCloud` starts again
 * on fresh ports if one does.
 */
import { createServer } from 'node:net';

const RANGE = { from: 20_000, to: 32_000 } as const;

/** `npm start` listens on PORT and the five after it (see `pickPorts` in cloud.ts). */
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
