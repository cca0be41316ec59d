/**
 * Size limits on everything Chromium writes to the worker: its CDP pipe and its log lines.
 *
 * A size limit on every CDP message Chromium sends the worker over its pipe. The platform's
 * own scripts bound their answers in the page (see bounded-evaluate.ts), but a page decides
 * other messages' sizes too: `console.log` of a 200 MB string arrives whole as a
 * `Runtime.consoleAPICalled` event (measured: the worker grew by ~1 GB, with no listener),
 * an uncaught exception's message as `Runtime.exceptionThrown`, a full-page screenshot of a
 * huge page as one base64 answer. Puppeteer's pipe transport gathers each message whole,
 * however big, then decodes it; one past V8's string limit throws inside its handler.
 *
 * So the pipe is read here first: a message within the limit goes on to Puppeteer
 * unchanged; one past it is never held beyond the limit. An event that large is dropped; an
 * answer that large becomes a CDP error answer to the same command id (and session), which
 * Puppeteer rejects the command with — naming the limit — instead of waiting for ever.
 *
 * Chromium also logs every console message and uncaught exception of every page to stderr
 * (`INFO:CONSOLE`, whatever `--log-level` says), and Puppeteer keeps its recent log lines,
 * each read whole: the same 200 MB string, again. Lines are cut at a length here.
 */
import type { Readable } from 'node:stream';

/** Chromium ends each message on the pipe with a NUL byte. */
const END = 0;
/** Bytes kept of an oversized message's start and end: enough for its id and session id. */
const KEPT = 256;

/** Tells an error raised by an oversized answer (see `isCdpMessageTooLarge`). */
const TOO_LARGE_MARK = 'CDP message too large';

export interface OversizedMessage {
  /** How many bytes it had when it ended. */
  bytes: number;
  /** The command it answered, if it was an answer (else an event, dropped). */
  id?: number;
  method?: string;
}

/**
 * Splits the pipe's bytes into messages, passing on each one within `maxBytes` (with its
 * NUL), and answering each one past it with an error answer, or nothing for an event.
 */
export class CdpMessageLimiter {
  private parts: Buffer[] = [];
  private size = 0;
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly emit: (message: Buffer) => void,
    private readonly onOversized: (message: OversizedMessage) => void = () => {},
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(END, start);
      this.take(chunk.subarray(start, end === -1 ? chunk.length : end));
      if (end === -1) return;
      this.finish();
      start = end + 1;
    }
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    if (this.head === undefined && this.size > this.maxBytes) {
      // Past the limit: keep its first bytes (the id) and, from now on, only its last ones.
      this.head = firstBytes([...this.parts, piece], KEPT);
      this.parts = [];
    }
    if (this.head === undefined) {
      this.parts.push(piece);
    } else {
      const joined = Buffer.concat([this.tail, piece.subarray(Math.max(0, piece.length - KEPT))]);
      this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - KEPT)));
    }
  }

  private finish(): void {
    if (this.head === undefined) {
      this.emit(Buffer.concat([...this.parts, Buffer.from([END])]));
    } else {
      const head = this.head.toString('latin1');
      const id = /^\{"id":(\d+),/.exec(head)?.[1];
      const method = /^\{"method":"([\w.]+)"/.exec(head)?.[1];
      const sessionId = /"sessionId":"([0-9A-Fa-f]+)"\}$/.exec(this.tail.toString('latin1'))?.[1];
      this.onOversized({
        bytes: this.size,
        ...(id === undefined ? {} : { id: Number(id) }),
        ...(method === undefined ? {} : { method }),
      });
      if (id !== undefined) {
        const answer = {
          id: Number(id),
          error: {
            code: -32000,
            message: `${TOO_LARGE_MARK}: ${this.size} bytes, past the worker's limit of ${this.maxBytes}`,
          },
          ...(sessionId === undefined ? {} : { sessionId }),
        };
        this.emit(Buffer.concat([Buffer.from(JSON.stringify(answer)), Buffer.from([END])]));
      }
    }
    this.parts = [];
    this.size = 0;
    this.head = undefined;
    this.tail = Buffer.alloc(0);
  }
}

const firstBytes = (parts: Buffer[], n: number): Buffer => {
  const taken: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    if (size >= n) break;
    taken.push(part.subarray(0, n - size));
    size += Math.min(part.length, n - size);
  }
  return Buffer.concat(taken);
};

/**
 * Puts a `CdpMessageLimiter` between Chromium's output pipe and Puppeteer's reader, which
 * subscribed to its `data` events when the browser launched: its listener is moved behind
 * the limiter. Throws if the pipe isn't read the way this expects (a Puppeteer upgrade that
 * changed it), rather than running unbounded.
 */
export const limitCdpPipe = (
  pipe: Readable,
  maxBytes: number,
  onOversized?: (message: OversizedMessage) => void,
): void => {
  const reader = onlyReader(pipe, "Chromium's CDP pipe");
  const limiter = new CdpMessageLimiter(maxBytes, (message) => reader(message), onOversized);
  interpose(pipe, reader, (chunk) => limiter.push(chunk));
};

/** Passes a stream's bytes on with every line cut to at most `maxBytes` (newline kept). */
export class LineLimiter {
  private lineBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly emit: (bytes: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    const kept: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      const room = Math.max(0, this.maxBytes - this.lineBytes);
      if (room > 0) kept.push(chunk.subarray(start, Math.min(end, start + room)));
      this.lineBytes += end - start;
      if (newline === -1) break;
      kept.push(chunk.subarray(newline, newline + 1));
      this.lineBytes = 0;
      start = newline + 1;
    }
    if (kept.length > 0) this.emit(Buffer.concat(kept));
  }
}

/** Cuts the lines Puppeteer reads from Chromium's stdout or stderr to `maxBytes` each. */
export const limitLogLines = (stream: Readable, maxBytes: number): void => {
  for (const reader of stream.listeners('data') as ((chunk: Buffer) => void)[]) {
    const limiter = new LineLimiter(maxBytes, (bytes) => reader(bytes));
    interpose(stream, reader, (chunk) => limiter.push(chunk));
  }
};

const onlyReader = (stream: Readable, what: string): ((chunk: Buffer) => void) => {
  const readers = stream.listeners('data') as ((chunk: Buffer) => void)[];
  const [reader] = readers;
  if (readers.length !== 1 || reader === undefined) {
    throw new Error(`Expected one reader of ${what}, found ${readers.length}.`);
  }
  return reader;
};

/** Moves `reader` behind `filter`, in one synchronous step (no chunk is missed). */
const interpose = (stream: Readable, reader: (chunk: Buffer) => void, filter: (chunk: Buffer) => void) => {
  stream.off('data', reader);
  stream.on('data', filter);
};

/** Whether `error` is Puppeteer rejecting a command whose answer was past the pipe's limit. */
export const isCdpMessageTooLarge = (error: unknown): boolean =>
  error instanceof Error && error.message.includes(TOO_LARGE_MARK);
