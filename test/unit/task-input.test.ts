import { describe, expect, it } from 'vitest';
import { failsOnHttpStatus, MAX_URL_LENGTH } from '../../shared/core/page-options.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { parseOrThrow } from '../../shared/validation.js';

const parse = (input: unknown) => parseOrThrow(createTaskInputSchema, input);
const failure = (input: unknown): BrowserfleetError => {
  try {
    parse(input);
  } catch (error) {
    if (error instanceof BrowserfleetError) return error;
    throw error;
  }
  throw new Error('expected a validation failure');
};

describe('task input', () => {
  it('fills every default, so a stored task is fully specified', () => {
    expect(parse({ type: 'screenshot', url: 'https://example.test/' })).toEqual({
      type: 'screenshot',
      url: 'https://example.test/',
      options: {
        viewport: {
          width: 1280,
          height: 720,
          deviceScaleFactor: 1,
          isMobile: false,
          hasTouch: false,
          isLandscape: false,
        },
        fullPage: false,
        format: 'png',
        omitBackground: false,
        waitUntil: 'load',
        javaScriptEnabled: true,
        timeoutMs: 30_000,
      },
      maxAttempts: 3,
      tier: 'auto',
      cacheTTL: 0,
    });
  });

  it.each([
    [{ type: 'teleport', url: 'https://a.test/' }, 'type'],
    [{ type: 'pdf', url: 'https://a.test/', options: { format: 'b7' } }, 'options.format'],
    [{ type: 'pdf', url: 'https://a.test/', options: { pageRanges: 'all' } }, 'options.pageRanges'],
    [{ type: 'pdf', url: 'https://a.test/', options: { margin: { top: '1 parsec' } } }, 'options.margin.top'],
    [{ type: 'scrape', url: 'https://a.test/' }, 'options'],
    [{ type: 'scrape', url: 'https://a.test/', options: { elements: [] } }, 'options.elements'],
    [
      {
        type: 'scrape',
        url: 'https://a.test/',
        options: { elements: [{ name: 'a', selector: 'a', extract: 'attribute' }] },
      },
      'options.elements.0.attribute',
    ],
    [{ type: 'evaluate', url: 'https://a.test/', options: {} }, 'options.script'],
    [{ type: 'evaluate', url: 'https://a.test/', options: { script: 'x'.repeat(70_000) } }, 'options.script'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { device: 'Nokia 3310' } }, 'options.device'],
    [
      { type: 'content', url: 'https://a.test/', options: { failOnHttpStatus: [200] } },
      'options.failOnHttpStatus.0',
    ],
    [
      { type: 'content', url: 'https://a.test/', options: { failOnHttpStatus: ['3xx'] } },
      'options.failOnHttpStatus.0',
    ],
    [
      { type: 'content', url: 'https://a.test/', options: { failOnHttpStatus: [] } },
      'options.failOnHttpStatus',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { timezoneId: 'Mars/Olympus' } },
      'options.timezoneId',
    ],
    [{ type: 'screenshot', url: 'https://a.test/', options: { locale: 'not a locale!' } }, 'options.locale'],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { waitForTimeout: 60_000 } },
      'options.waitForTimeout',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { rejectResourceTypes: ['script'] } },
      'options.rejectResourceTypes.0',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { extraHTTPHeaders: { 'bad header': 'x' } } },
      'options.extraHTTPHeaders.bad header',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { fullPage: true, selector: 'h1' } },
      'options.clip',
    ],
    [{ type: 'screenshot', url: 'https://a.test/', tier: 'mainframe' }, 'tier'],
    [{ url: 'https://a.test/' }, 'type'],
    [{ type: 'screenshot' }, 'url'],
    [{ type: 'screenshot', url: 'not a url' }, 'url'],
    [{ type: 'screenshot', url: 'file:///etc/passwd' }, 'url'],
    [{ type: 'screenshot', url: 'javascript:alert(1)' }, 'url'],
    [{ type: 'screenshot', url: `https://a.test/${'x'.repeat(MAX_URL_LENGTH)}` }, 'url'],
    [{ type: 'screenshot', url: 'https://a.test/', extra: 1 }, 'extra'],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { viewport: { width: 0 } } },
      'options.viewport.width',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { viewport: { width: 1.5 } } },
      'options.viewport.width',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { viewport: { height: 99999 } } },
      'options.viewport.height',
    ],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { viewport: { deviceScaleFactor: 9 } } },
      'options.viewport.deviceScaleFactor',
    ],
    [{ type: 'screenshot', url: 'https://a.test/', options: { format: 'gif' } }, 'options.format'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { quality: 50 } }, 'options.quality'],
    [
      { type: 'screenshot', url: 'https://a.test/', options: { format: 'jpeg', quality: 101 } },
      'options.quality',
    ],
    [{ type: 'screenshot', url: 'https://a.test/', options: { waitUntil: 'never' } }, 'options.waitUntil'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { timeoutMs: 10 } }, 'options.timeoutMs'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { fullPage: 'yes' } }, 'options.fullPage'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { bogus: true } }, 'options.bogus'],
    [{ type: 'screenshot', url: 'https://a.test/', maxAttempts: 0 }, 'maxAttempts'],
    [{ type: 'screenshot', url: 'https://a.test/', maxAttempts: 11 }, 'maxAttempts'],
    [{ type: 'screenshot', url: 'https://a.test/', cacheTTL: 86_401 }, 'cacheTTL'],
    [{ type: 'screenshot', url: 'https://a.test/', cacheTTL: -1 }, 'cacheTTL'],
    [{ type: 'screenshot', url: 'https://a.test/', cacheTTL: 1.5 }, 'cacheTTL'],
    [{ type: 'screenshot', url: 'https://a.test/', cacheTTL: '60' }, 'cacheTTL'],
    [{ type: 'screenshot', url: 'https://a.test/', options: { cacheTTL: 60 } }, 'options.cacheTTL'],
  ])('rejects %j naming the field %s', (input, field) => {
    const error = failure(input);
    expect(error.code).toBe('VALIDATION_FAILED');
    const issues = error.details?.issues as { field: string; message: string }[];
    expect(issues.map((i) => i.field)).toContain(field);
    expect(error.message).toContain(`${field}:`);
  });

  it('accepts quality with jpeg and webp', () => {
    expect(
      parse({ type: 'screenshot', url: 'http://a.test/', options: { format: 'webp', quality: 80 } }).options,
    ).toMatchObject({ format: 'webp', quality: 80 });
  });
});

describe('failOnHttpStatus', () => {
  it.each([
    [404, [404], true],
    [404, ['4xx'], true],
    [503, ['4xx', 500], false],
    [500, ['4xx', 500], true],
    [599, ['5xx'], true],
    [200, ['4xx', '5xx'], false],
    [404, undefined, false],
    [undefined, ['4xx'], false],
  ] as const)('status %s with %j fails: %s', (status, rules, fails) => {
    expect(failsOnHttpStatus(status, rules)).toBe(fails);
  });
});

describe('input Chromium would refuse at run time is refused at submit, naming the field', () => {
  const shot = (options: Record<string, unknown>) => ({
    type: 'screenshot',
    url: 'https://a.test/',
    options,
  });
  it.each([
    [shot({ extraHTTPHeaders: { 'x-a': 'one\r\nx-injected: two' } }), 'options.extraHTTPHeaders.x-a'],
    [shot({ extraHTTPHeaders: { 'x-a': 'nul\u0000' } }), 'options.extraHTTPHeaders.x-a'],
    [shot({ userAgent: 'Mozilla/5.0\nX: y' }), 'options.userAgent'],
    [shot({ userAgent: 'snowman ☃' }), 'options.userAgent'],
    [shot({ cookies: [{ name: 'a b', value: 'v' }] }), 'options.cookies.0.name'],
    [shot({ cookies: [{ name: 'a', value: 'v;injected=1' }] }), 'options.cookies.0.value'],
    [shot({ cookies: [{ name: 'a', value: 'v', domain: 'a.test/evil' }] }), 'options.cookies.0.domain'],
    [shot({ cookies: [{ name: 'a', value: 'v', path: 'no-slash' }] }), 'options.cookies.0.path'],
    [shot({ selector: 'div[' }), 'options.selector'],
    [shot({ waitForSelector: { selector: 'a[title="x]' } }), 'options.waitForSelector.selector'],
    [
      {
        type: 'scrape',
        url: 'https://a.test/',
        options: { elements: [{ name: 'a', selector: ':not(a', extract: 'text' }] },
      },
      'options.elements.0.selector',
    ],
  ])('%j is refused at %s', (input, field) => {
    const error = failure(input);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain(field);
  });

  it('accepts what real pages use: Latin-1 headers, quoted brackets in selectors, P-selectors', () => {
    expect(() =>
      parse(
        shot({
          extraHTTPHeaders: { 'accept-language': 'de-DE,de;q=0.9', 'x-tab': 'a\tb' },
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64) browserfleet',
          cookies: [{ name: 'session', value: 'abc=123 "quoted"', domain: '.a.test', path: '/app' }],
          selector: 'a[title="(not a paren)"] >>> ::-p-text(Buy [now])',
        }),
      ),
    ).not.toThrow();
  });
});
