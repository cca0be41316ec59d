/**
 * The limits between Chromium's output and Puppeteer: CDP messages past a size never reach
 * Puppeteer whole (an answer becomes an error answer to the same id and session, an event
 * is dropped), and log lines are cut. Pure byte handling, fed in arbitrary chunks.
 */
import { describe, expect, it } from 'vitest';
import { CdpMessageLimiter, LineLimiter } from '../../shared/adapters/puppeteer/bounded-chromium-output.js';

const NUL = '\0';
/** Feeds `text` to `push` in chunks of `size` bytes. */
const feed = (push: (b: Buffer) => void, text: string, size: number) => {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) push(bytes.subarray(i, i + size));
};

describe('CdpMessageLimiter', () => {
  const limited = (maxBytes: number, chunk: number, text: string) => {
    const out: string[] = [];
    const oversized: unknown[] = [];
    const limiter = new CdpMessageLimiter(
      maxBytes,
      (m) => out.push(m.toString()),
      (o) => oversized.push(o),
    );
    feed((b) => limiter.push(b), text, chunk);
    return { out, oversized };
  };
  const small = '{"id":1,"result":{}}';
  const bigAnswer = `{"id":7,"result":{"data":"${'x'.repeat(5000)}"},"sessionId":"ABC123"}`;
  const bigEvent = `{"method":"Runtime.consoleAPICalled","params":{"v":"${'y'.repeat(5000)}"},"sessionId":"ABC123"}`;

  it.each([1, 7, 64, 100_000])(
    'passes messages within the limit on unchanged, in %i-byte chunks',
    (chunk) => {
      const { out } = limited(1000, chunk, `${small}${NUL}${small}${NUL}`);
      expect(out).toEqual([`${small}${NUL}`, `${small}${NUL}`]);
    },
  );

  it.each([1, 13, 4096])(
    'answers an oversized answer with an error to its id and session, in %i-byte chunks',
    (chunk) => {
      const { out, oversized } = limited(1000, chunk, `${small}${NUL}${bigAnswer}${NUL}${small}${NUL}`);
      expect(out).toHaveLength(3);
      expect(out[0]).toBe(`${small}${NUL}`);
      expect(JSON.parse(out[1]?.slice(0, -1) ?? '')).toEqual({
        id: 7,
        error: {
          code: -32000,
          message: `CDP message too large: ${bigAnswer.length} bytes, past the worker's limit of 1000`,
        },
        sessionId: 'ABC123',
      });
      expect(out[2]).toBe(`${small}${NUL}`);
      expect(oversized).toEqual([{ bytes: bigAnswer.length, id: 7 }]);
    },
  );

  it('drops an oversized event, and the messages around it arrive', () => {
    const { out, oversized } = limited(1000, 333, `${small}${NUL}${bigEvent}${NUL}${small}${NUL}`);
    expect(out).toEqual([`${small}${NUL}`, `${small}${NUL}`]);
    expect(oversized).toEqual([{ bytes: bigEvent.length, method: 'Runtime.consoleAPICalled' }]);
  });

  it('holds no more than the limit of a message while it arrives', () => {
    const limiter = new CdpMessageLimiter(10_000, () => {});
    const held = () => (limiter as unknown as { parts: Buffer[] }).parts.reduce((n, p) => n + p.length, 0);
    let most = 0;
    feed(
      (b) => {
        limiter.push(b);
        most = Math.max(most, held());
      },
      `{"method":"x","params":"${'z'.repeat(1_000_000)}"}`,
      4096,
    );
    expect(most).toBeLessThanOrEqual(10_000);
  });
});

describe('LineLimiter', () => {
  it.each([1, 5, 1000])('cuts each line to the limit and keeps the newlines, in %i-byte chunks', (chunk) => {
    let out = '';
    const limiter = new LineLimiter(8, (b) => {
      out += b.toString();
    });
    feed((b) => limiter.push(b), `short\n${'L'.repeat(100)}\n\nend`, chunk);
    expect(out).toBe(`short\n${'L'.repeat(8)}\n\nend`);
  });
});
