/**
 * A live session's snapshot refs: the accessibility-tree `snapshot` and the elements its
 * refs name, for the commands that take `{ ref }`. The page code (in-page/snapshot-scripts.ts)
 * runs in an isolated world of the page, over a CDP session of our own: the page's scripts
 * share its DOM but can't see or redefine the refs. Refs are never reused in a session (each
 * new document starts after the last one handed out), so a ref from another document, or
 * one whose element was removed, answers `STALE_REF` rather than act on something else.
 */
import type { CDPSession, ElementHandle, Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { type CommandParams, SNAPSHOT_LIMITS } from '../../session/session-input.js';
import {
  elementOfRefInPage,
  type PageElement,
  type SnapshotPage,
  snapshotPageInPage,
  takeSnapshotInPage,
} from './in-page/snapshot-scripts.js';

/** The world's name in the page (one per document, made on first use). */
const WORLD_NAME = 'browserfleet-refs';

/**
 * Page code as a function source that runs anywhere: tsx and esbuild's keepNames wrap the
 * named functions inside in `__name(…)`, which exists only where we define it.
 */
const portableSource = (fn: (...args: never[]) => unknown): string =>
  `function (...args) { const __name = (f) => f; return (${fn.toString()}).apply(this, args); }`;

/** Page code as a function Puppeteer can serialize (for `evaluate` on its own handles). */
export const portable = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) =>
  new Function(`return ${portableSource(fn as (...args: never[]) => unknown)}`)() as (...args: A) => R;

/** One element a command acts on, whether a selector or a ref named it. */
export interface ElementTarget {
  /** Runs page code with the element as its first argument; answers its JSON result. */
  run<A extends unknown[], R>(fn: (el: PageElement, ...args: A) => R, ...args: A): Promise<Awaited<R>>;
  /** Scrolls it into view: the centre of its box, in CSS pixels of the viewport. */
  point(): Promise<{ x: number; y: number }>;
  release(): Promise<void>;
}

/** A puppeteer handle (a selector's match) as a target. */
export const handleTarget = (handle: ElementHandle): ElementTarget => ({
  run: async (fn, ...args) => {
    const evaluate = handle.evaluate.bind(handle) as unknown as (
      fn: (...a: never[]) => unknown,
      ...a: unknown[]
    ) => Promise<unknown>;
    return (await evaluate(portable(fn) as (...a: never[]) => unknown, ...args)) as never;
  },
  point: async () => {
    await handle.scrollIntoView();
    return handle.clickablePoint();
  },
  release: () => handle.dispose(),
});

interface World {
  cdp: CDPSession;
  contextId: number;
}

const evaluationFailed = (details: { exception?: { description?: string }; text: string }): Error =>
  new Error(`Evaluation failed: ${(details.exception?.description ?? details.text).slice(0, 500)}`);

const staleRef = (ref: string, why: string): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.STALE_REF,
    `Ref ${ref} ${why}; take a new snapshot and use a ref from it.`,
    { details: { ref } },
  );

const badCursor = (why: string): BrowserfleetError =>
  new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, `params.cursor: ${why}`, {
    details: { issues: [{ field: 'params.cursor', message: why }] },
  });

/** A cursor is the snapshot's id and where the next page starts, opaque to clients. */
const encodeCursor = (snapshotId: string, offset: number): string =>
  Buffer.from(`${snapshotId}.${offset}`).toString('base64url');

const decodeCursor = (cursor: string): { snapshotId: string; offset: number } => {
  const match = /^([0-9a-f]{32})\.(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null) throw badCursor('is not a cursor a snapshot answered');
  return { snapshotId: match[1] as string, offset: Number(match[2]) };
};

export interface SnapshotAnswer {
  url: string;
  title: string;
  text: string;
  totalChars: number;
  nextCursor?: string;
  /** Set when the page had more than the snapshot reads (SNAPSHOT_LIMITS). */
  truncated?: true;
}

export class PageRefs {
  /** The first ref of a document with none yet: refs are never reused within the session. */
  private nextRef = 1;
  private readonly sessions = new WeakMap<Page, Promise<CDPSession>>();

  private async world(page: Page): Promise<World> {
    let session = this.sessions.get(page);
    if (session === undefined) {
      session = page.createCDPSession();
      this.sessions.set(page, session);
      // A failed attach is tried again next time.
      session.catch(() => this.sessions.delete(page));
    }
    const cdp = await session;
    const { frameTree } = await cdp.send('Page.getFrameTree');
    // The same world for the same document each time; a new document gets a new one.
    const { executionContextId } = await cdp.send('Page.createIsolatedWorld', {
      frameId: frameTree.frame.id,
      worldName: WORLD_NAME,
    });
    return { cdp, contextId: executionContextId };
  }

  private static async evaluate<A extends unknown[], R>(
    world: World,
    fn: (...args: A) => R,
    ...args: A
  ): Promise<R> {
    const out = await world.cdp.send('Runtime.evaluate', {
      contextId: world.contextId,
      expression: `(${portableSource(fn as (...a: never[]) => unknown)})(...${JSON.stringify(args)})`,
      returnByValue: true,
      awaitPromise: true,
    });
    if (out.exceptionDetails !== undefined) throw evaluationFailed(out.exceptionDetails);
    return out.result.value as R;
  }

  async snapshot(page: Page, p: CommandParams<'snapshot'>): Promise<SnapshotAnswer> {
    const world = await this.world(page);
    const bounds = { maxChars: p.maxChars, maxBytes: SNAPSHOT_LIMITS.maxBytes };
    let text: string;
    let totalChars: number;
    let nextOffset: number | undefined;
    let snapshotId: string;
    let truncated = false;
    if (p.cursor !== undefined) {
      const cursor = decodeCursor(p.cursor);
      const later = await PageRefs.evaluate(world, snapshotPageInPage, { ...cursor, ...bounds });
      if ('stale' in later) {
        throw badCursor('belongs to an older snapshot or another page; take a new snapshot');
      }
      ({ text, totalChars, nextOffset } = later);
      snapshotId = cursor.snapshotId;
    } else {
      const first: SnapshotPage | { missing: string } = await PageRefs.evaluate(world, takeSnapshotInPage, {
        selector: p.selector,
        roles: p.roles,
        firstRef: this.nextRef,
        maxNodes: SNAPSHOT_LIMITS.maxNodes,
        maxVisited: SNAPSHOT_LIMITS.maxVisited,
        ...bounds,
      });
      if ('missing' in first) {
        throw new BrowserfleetError(ERROR_CODES.SELECTOR_NOT_FOUND, `No element matches ${first.missing}.`);
      }
      this.nextRef = Math.max(this.nextRef, first.nextRef);
      ({ text, totalChars, nextOffset, snapshotId, truncated } = first);
    }
    return {
      // A page names these itself: cut, like the tabs answer's, so they can't outgrow a message.
      url: page.url().slice(0, 2_048),
      title: (await page.title()).slice(0, 500),
      text,
      totalChars,
      ...(nextOffset === undefined ? {} : { nextCursor: encodeCursor(snapshotId, nextOffset) }),
      ...(truncated ? { truncated: true as const } : {}),
    };
  }

  /** The element `ref` names now, or `STALE_REF`. */
  async element(page: Page, ref: string): Promise<ElementTarget> {
    const world = await this.world(page);
    const out = await world.cdp.send('Runtime.evaluate', {
      contextId: world.contextId,
      expression: `(${portableSource(elementOfRefInPage as (...a: never[]) => unknown)})(${JSON.stringify(ref)})`,
      awaitPromise: true,
    });
    if (out.exceptionDetails !== undefined) throw evaluationFailed(out.exceptionDetails);
    const objectId = out.result.objectId;
    if (out.result.subtype !== 'node' || objectId === undefined) {
      throw staleRef(
        ref,
        out.result.value === 'no-snapshot'
          ? 'is from another page (this one has had no snapshot since it loaded)'
          : 'names an element that is no longer on the page (removed, or the page navigated)',
      );
    }
    const { cdp } = world;
    return {
      run: async (fn, ...args) => {
        const called = await cdp.send('Runtime.callFunctionOn', {
          objectId,
          functionDeclaration: `function (...args) { return (${portableSource(fn as (...a: never[]) => unknown)})(this, ...args); }`,
          arguments: args.map((value) => ({ value })),
          returnByValue: true,
          awaitPromise: true,
        });
        if (called.exceptionDetails !== undefined) throw evaluationFailed(called.exceptionDetails);
        return called.result.value as never;
      },
      point: async () => {
        await cdp.send('DOM.scrollIntoViewIfNeeded', { objectId });
        const { quads } = await cdp.send('DOM.getContentQuads', { objectId });
        for (const q of quads) {
          const xs = [q[0], q[2], q[4], q[6]] as number[];
          const ys = [q[1], q[3], q[5], q[7]] as number[];
          const width = Math.max(...xs) - Math.min(...xs);
          const height = Math.max(...ys) - Math.min(...ys);
          if (width >= 1 && height >= 1) {
            return { x: xs.reduce((a, b) => a + b) / 4, y: ys.reduce((a, b) => a + b) / 4 };
          }
        }
        throw new BrowserfleetError(
          ERROR_CODES.SCRIPT_ERROR,
          `The element of ref ${ref} has no box to point at (hidden, or zero-sized).`,
        );
      },
      release: async () => {
        await cdp.send('Runtime.releaseObject', { objectId }).catch(() => {});
      },
    };
  }
}
