/**
 * Page code: functions that run in the page, not in Node (each is serialized with
 * toString and evaluated there), so they may use the DOM and nothing they close over.
 * Only files under `in-page/` (and tests that drive pages) may name DOM globals: the lint
 * refuses `document`, `window` and the rest anywhere else (biome.json), where they would
 * type-check under the DOM lib and fail at run time in Node.
 */
import type { ScrapeOptions } from '../../../task/task-input.js';

type ScrapeSpec = ScrapeOptions['elements'][number];

/**
 * Runs in the page (serialized with toString): each spec's values as JSON, or, once their
 * running size passes `cap` characters, that size, so a query matching a whole nested
 * page stops there rather than reading every element's outer HTML (quadratic in depth).
 */
export function scrapeInPage(specs: ScrapeSpec[], cap: number): string | number {
  // Quotes, commas and keys, roughly: enough to stop near the cap; the wrapper's check of
  // the final JSON is the exact one.
  let size = 2;
  const read = (el: Element, spec: ScrapeSpec): string | null => {
    if (spec.extract === 'html') return el.outerHTML;
    if (spec.extract === 'attribute') return el.getAttribute(spec.attribute ?? '');
    return (el as HTMLElement).innerText ?? el.textContent ?? '';
  };
  const counted = (value: string | null): number => (typeof value === 'string' ? value.length + 3 : 5);
  const out: Record<string, (string | null)[] | string | null> = {};
  for (const spec of specs) {
    size += spec.name.length + 4;
    if (spec.all) {
      const found = document.querySelectorAll(spec.selector);
      const values: (string | null)[] = [];
      for (let i = 0; i < found.length; i++) {
        const value = read(found[i] as Element, spec);
        size += counted(value);
        if (size > cap) return size;
        values.push(value);
      }
      out[spec.name] = values;
    } else {
      const el = document.querySelector(spec.selector);
      const value = el === null ? null : read(el, spec);
      size += counted(value);
      if (size > cap) return size;
      out[spec.name] = value;
    }
  }
  return JSON.stringify(out);
}

/** Runs in the page: its unique absolute http(s) links as JSON, or past `cap`, the size so far. */
export function linksInPage(visibleOnly: boolean, cap: number): string | number {
  const seen = new Set<string>();
  const out: { href: string; text: string }[] = [];
  let size = 2;
  const anchors = document.querySelectorAll('a[href]');
  for (let i = 0; i < anchors.length; i++) {
    const a = anchors[i] as HTMLAnchorElement;
    if (visibleOnly) {
      const box = a.getBoundingClientRect();
      const style = getComputedStyle(a);
      if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || style.display === 'none') {
        continue;
      }
    }
    const href = a.href;
    if (!/^https?:/.test(href) || seen.has(href)) continue;
    seen.add(href);
    const text = (a.innerText || a.textContent || '').trim().slice(0, 500);
    // {"href":"…","text":"…"},
    size += href.length + text.length + 22;
    if (size > cap) return size;
    out.push({ href, text });
  }
  return JSON.stringify(out);
}
