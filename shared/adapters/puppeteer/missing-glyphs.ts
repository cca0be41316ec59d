/**
 * Finds the characters of a rendered page that no font could draw — what shows as the
 * missing-glyph box ("tofu") in a screenshot or PDF — so a task result says so instead of
 * delivering a blank CJK PDF silently.
 *
 * In the page: the text nodes' distinct code points (bounded), each drawn on a canvas in
 * its element's font stack and compared with a code point no font has. Chromium draws both
 * with the same fallback glyph (.notdef) when nothing covers them. A width comparison rules
 * out almost every character at once; only those of the box's width are compared pixel by
 * pixel.
 */
import type { Page } from 'puppeteer-core';
import type { TaskWarning } from '../../task/task.js';

/** Text characters read from the page, at most: bounds the walk on a huge page. */
export const MAX_SCANNED_CHARS = 200_000;
/** Distinct code points checked, at most. */
export const MAX_CHECKED_CODE_POINTS = 4_000;
/** Code points named in a warning, at most (the count says how many there were). */
export const MAX_LISTED_CODE_POINTS = 32;
/** What the check may add to a task before it gives up (answers no warning then). */
const CHECK_TIMEOUT_MS = 2_000;

interface Probe {
  missing: number[];
  /** The walk stopped at a bound: there may be more. */
  truncated: boolean;
}

/**
 * Runs in the page, as source text: a function handed to `page.evaluate` would carry the
 * helpers a TypeScript transform adds (tsx's `__name`), which the page doesn't have.
 * Answers `{ missing: number[], truncated: boolean }` (`truncated`: a bound stopped the walk).
 */
const PROBE_SOURCE = String.raw`(maxChars, maxDistinct) => {
  const root = document.body ?? document.documentElement;
  if (root === null) return { missing: [], truncated: false };
  const skipped = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA']);
  // Marks, controls, format characters (ZWJ, variation selectors), separators, private use
  // and unassigned: nothing to draw alone, or nothing a font set is expected to have.
  const invisible = /[\p{M}\p{C}\p{Z}]/u;
  const seen = new Map();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let scanned = 0;
  let truncated = false;
  walk: while (walker.nextNode() !== null) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (parent === null || skipped.has(parent.tagName)) continue;
    let family;
    for (const ch of node.data) {
      if (++scanned > maxChars || seen.size >= maxDistinct) {
        truncated = true;
        break walk;
      }
      const cp = ch.codePointAt(0);
      if (cp < 0x80 || seen.has(cp) || invisible.test(ch)) continue;
      family ??= getComputedStyle(parent).fontFamily || 'sans-serif';
      seen.set(cp, family);
    }
  }
  if (seen.size === 0) return { missing: [], truncated };
  const size = 32;
  const canvas = document.createElement('canvas');
  canvas.width = size * 2;
  canvas.height = size * 2;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (g === null) return { missing: [], truncated };
  const draw = (text) => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.fillText(text, 2, size * 1.5);
    return g.getImageData(0, 0, canvas.width, canvas.height).data;
  };
  // U+10FFFD is a private-use code point of the last plane: no font of ours has it.
  const box = String.fromCodePoint(0x10fffd);
  const boxes = new Map();
  const missing = [];
  for (const [cp, family] of seen) {
    g.font = size + 'px ' + family;
    let ref = boxes.get(family);
    if (ref === undefined) {
      ref = { width: g.measureText(box).width, pixels: draw(box) };
      boxes.set(family, ref);
    }
    const ch = String.fromCodePoint(cp);
    if (Math.abs(g.measureText(ch).width - ref.width) > 0.01) continue;
    const pixels = draw(ch);
    let same = true;
    for (let i = 3; i < pixels.length; i += 4) {
      if (pixels[i] !== ref.pixels[i]) {
        same = false;
        break;
      }
    }
    if (same) missing.push(cp);
  }
  return { missing, truncated };
}`;

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The page's missing-glyph warning, or undefined when every character it shows has a
 * glyph (or the check couldn't run: it never fails a task).
 */
export const missingGlyphs = async (page: Page): Promise<TaskWarning | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), CHECK_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([
      // The probe only adds a warning: a page it can't read is delivered without one.
      page
        .evaluate(`(${PROBE_SOURCE})(${MAX_SCANNED_CHARS}, ${MAX_CHECKED_CODE_POINTS})`)
        .then((answer) => answer as Probe)
        .catch(() => undefined),
      timeout,
    ]);
    if (found === undefined || found.missing.length === 0) return undefined;
    const codePoints = found.missing.slice(0, MAX_LISTED_CODE_POINTS).map(hex);
    const more = found.missing.length - codePoints.length;
    return {
      code: 'MISSING_GLYPHS',
      message:
        `${found.missing.length} character(s) rendered as the missing-glyph box: no font has them ` +
        `(${codePoints.join(' ')}${more > 0 ? ` and ${more} more` : ''})` +
        `${found.truncated ? '; only the first part of the page was checked' : ''}.`,
      codePoints,
      count: found.missing.length,
    };
  } finally {
    clearTimeout(timer);
  }
};
