/**
 * Page code for `snapshot` and the commands that act on its refs (see capture-scripts.ts
 * for the rules of page code). These run in an isolated world of the page (page-refs.ts):
 * the page's own scripts share its DOM but not its globals, so they can neither see the
 * refs nor redefine what these functions call. Each function closes over nothing; helpers
 * are written inside them.
 */

/** An element of the page, as the code outside in-page/ may name its type. */
export type PageElement = Element;

/** Where a document's refs live, in the isolated world's global. */
interface RefState {
  next: number;
  byRef: Map<string, WeakRef<Element>>;
  byElement: WeakMap<Element, string>;
  snapshot?: { id: string; text: string };
}

export interface SnapshotInPageOptions {
  selector?: string | undefined;
  roles?: string[] | undefined;
  /** The first ref number to hand out if this document has none yet. */
  firstRef: number;
  maxNodes: number;
  maxVisited: number;
  maxChars: number;
  maxBytes: number;
}

export interface SnapshotPage {
  snapshotId: string;
  text: string;
  totalChars: number;
  /** Where the next page starts; absent on the last. */
  nextOffset?: number;
  truncated: boolean;
  /** The number after the last ref this document has handed out. */
  nextRef: number;
}

/**
 * Runs in the page's isolated world: the accessibility tree of the document (or of the
 * element `selector` names) as text lines, stored for later pages, and its first page.
 * Elements get refs that stay theirs for the document's life.
 */
export function takeSnapshotInPage(options: SnapshotInPageOptions): SnapshotPage | { missing: string } {
  const g = globalThis as unknown as { __browserfleetRefs?: RefState };
  g.__browserfleetRefs ??= { next: options.firstRef, byRef: new Map(), byElement: new WeakMap() };
  const state = g.__browserfleetRefs;
  let root: Element | null = document.body ?? document.documentElement;
  if (options.selector !== undefined) root = document.querySelector(options.selector);
  if (root === null) return { missing: options.selector ?? 'body' };

  const SKIPPED = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'META', 'LINK', 'TITLE']);
  // Roles whose name is their content: their text is not repeated below them.
  const LEAF = new Set([
    'button',
    'link',
    'heading',
    'option',
    'tab',
    'menuitem',
    'menuitemcheckbox',
    'menuitemradio',
    'checkbox',
    'radio',
    'switch',
    'treeitem',
    'img',
    'textbox',
    'searchbox',
    'slider',
    'spinbutton',
    'progressbar',
    'meter',
    'separator',
  ]);
  // Leaves named by their text; the other roles show their text below them instead.
  const NAME_FROM_CONTENT = new Set(
    [...LEAF].filter((role) => !['textbox', 'searchbox', 'img', 'slider', 'spinbutton'].includes(role)),
  );
  const clean = (text: string | null | undefined): string => (text ?? '').replace(/\s+/g, ' ').trim();
  const cap = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

  const roleOf = (el: Element): string => {
    const explicit = el.getAttribute('role')?.trim().split(/\s+/)[0]?.toLowerCase();
    if (explicit !== undefined && explicit !== '') {
      return explicit === 'none' || explicit === 'presentation' ? '' : explicit;
    }
    const tag = el.tagName;
    if (tag === 'INPUT') {
      const type = (el as HTMLInputElement).type;
      if (type === 'hidden') return '';
      if (['button', 'submit', 'reset', 'image', 'file'].includes(type)) return 'button';
      if (type === 'checkbox' || type === 'radio') return type;
      if (type === 'range') return 'slider';
      if (type === 'number') return 'spinbutton';
      if (type === 'search') return 'searchbox';
      return 'textbox';
    }
    if (/^H[1-6]$/.test(tag)) return 'heading';
    const byTag: Record<string, string> = {
      BUTTON: 'button',
      SUMMARY: 'button',
      OPTION: 'option',
      TEXTAREA: 'textbox',
      UL: 'list',
      OL: 'list',
      MENU: 'list',
      LI: 'listitem',
      NAV: 'navigation',
      MAIN: 'main',
      HEADER: 'banner',
      FOOTER: 'contentinfo',
      ASIDE: 'complementary',
      FORM: 'form',
      ARTICLE: 'article',
      TABLE: 'table',
      TR: 'row',
      TD: 'cell',
      TH: 'columnheader',
      DIALOG: 'dialog',
      DETAILS: 'group',
      FIELDSET: 'group',
      P: 'paragraph',
      PROGRESS: 'progressbar',
      METER: 'meter',
      IFRAME: 'iframe',
      HR: 'separator',
    };
    if (tag === 'A' || tag === 'AREA') return el.hasAttribute('href') ? 'link' : '';
    if (tag === 'SELECT') {
      const select = el as HTMLSelectElement;
      return select.multiple || select.size > 1 ? 'listbox' : 'combobox';
    }
    if (tag === 'IMG') return el.getAttribute('alt') === '' ? '' : 'img';
    if (tag === 'SECTION')
      return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : '';
    const role = byTag[tag];
    if (role !== undefined) return role;
    const html = el as HTMLElement;
    if (html.isContentEditable && html.parentElement?.isContentEditable !== true) return 'textbox';
    // Something a script made clickable or focusable: an agent may want to act on it.
    if (el.hasAttribute('onclick') || (el.hasAttribute('tabindex') && html.tabIndex >= 0)) return 'generic';
    return '';
  };

  const nameOf = (el: Element, role: string): string => {
    const label = clean(el.getAttribute('aria-label'));
    if (label !== '') return label;
    const labelledBy = el.getAttribute('aria-labelledby');
    if (labelledBy !== null) {
      const text = clean(
        labelledBy
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join(' '),
      );
      if (text !== '') return text;
    }
    const tag = el.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
      const field = el as HTMLInputElement;
      if (tag === 'INPUT' && ['button', 'submit', 'reset'].includes(field.type)) {
        return field.value || (field.type === 'submit' ? 'Submit' : field.type === 'reset' ? 'Reset' : '');
      }
      if (tag === 'INPUT' && field.type === 'image') return field.alt || 'Submit';
      const labels = field.labels;
      if (labels !== null && labels.length > 0) {
        const text = clean(Array.from(labels, (l) => l.textContent ?? '').join(' '));
        if (text !== '') return text;
      }
      return clean(field.getAttribute('placeholder') ?? el.getAttribute('title'));
    }
    if (tag === 'IMG') return clean(el.getAttribute('alt') ?? el.getAttribute('title'));
    if (NAME_FROM_CONTENT.has(role)) {
      const text = clean(el.textContent);
      if (text !== '') return text;
    }
    return clean(el.getAttribute('title'));
  };

  const statesOf = (el: Element, role: string): string => {
    const out: string[] = [];
    if (role === 'heading') {
      const level =
        el.getAttribute('aria-level') ?? (/^H([1-6])$/.exec(el.tagName)?.[1] as string | undefined);
      if (level !== undefined && level !== null) out.push(`[level=${level}]`);
    }
    const field = el as HTMLInputElement;
    if ((role === 'checkbox' || role === 'radio' || role === 'switch') && el.tagName === 'INPUT') {
      if (field.checked) out.push('[checked]');
    } else if (el.getAttribute('aria-checked') === 'true') out.push('[checked]');
    if ((el as HTMLOptionElement).selected === true || el.getAttribute('aria-selected') === 'true') {
      out.push('[selected]');
    }
    if (el.getAttribute('aria-expanded') !== null) out.push(`[expanded=${el.getAttribute('aria-expanded')}]`);
    if ((el as HTMLButtonElement).disabled === true || el.getAttribute('aria-disabled') === 'true') {
      out.push('[disabled]');
    }
    return out.join(' ');
  };

  const fieldValue = (el: Element, role: string): string | undefined => {
    if (el.tagName === 'SELECT') {
      const select = el as HTMLSelectElement;
      return select.multiple ? undefined : clean(select.selectedOptions[0]?.textContent);
    }
    if (role !== 'textbox' && role !== 'searchbox' && role !== 'spinbutton' && role !== 'slider')
      return undefined;
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
      const field = el as HTMLInputElement;
      if (field.type === 'password') return field.value === '' ? undefined : '••••';
      return field.value === '' ? undefined : field.value;
    }
    return undefined;
  };

  const refOf = (el: Element): string => {
    let ref = state.byElement.get(el);
    if (ref === undefined) {
      ref = `e${state.next++}`;
      state.byElement.set(el, ref);
      state.byRef.set(ref, new WeakRef(el));
    }
    return ref;
  };

  const visible = (el: Element): boolean => {
    if (el.hasAttribute('hidden') || el.getAttribute('aria-hidden') === 'true') return false;
    // A closed select's options have no box, but they are what an agent selects from.
    if (el.tagName === 'OPTION' || el.tagName === 'OPTGROUP') return true;
    const check = (el as HTMLElement).checkVisibility;
    if (typeof check !== 'function' || check.call(el, { visibilityProperty: true })) return true;
    // `display: contents` has no box of its own, but its children do.
    return getComputedStyle(el).display === 'contents';
  };

  interface Line {
    depth: number;
    text: string;
    isText: boolean;
    /** A text line's text, before it is quoted. */
    raw?: string;
    value?: string;
  }
  const lines: Line[] = [];
  const filter = options.roles === undefined ? undefined : new Set(options.roles);
  let visited = 0;
  let truncated = false;
  // Depth-first, in document order, without recursion (a page may nest 100 000 deep).
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [Node, number];
    if (lines.length >= options.maxNodes || visited >= options.maxVisited) {
      truncated = true;
      break;
    }
    if (node.nodeType === 3) {
      if (filter !== undefined) continue;
      const text = clean(node.textContent);
      if (text === '') continue;
      // Text split by inline elements (`Some <b>bold</b> text`) reads as one line.
      const last = lines[lines.length - 1];
      if (last?.isText === true && last.depth === depth && last.raw !== undefined && last.raw.length < 200) {
        last.raw = `${last.raw} ${text}`;
      } else {
        lines.push({ depth, text: '', isText: true, raw: text });
      }
      continue;
    }
    if (node.nodeType !== 1) continue;
    const el = node as Element;
    visited++;
    if (SKIPPED.has(el.tagName) || !visible(el)) continue;
    const role = roleOf(el);
    let childDepth = depth;
    if (role !== '' && (filter === undefined || filter.has(role))) {
      const name = cap(nameOf(el, role), 100);
      const states = statesOf(el, role);
      const value = fieldValue(el, role);
      const parts = [`- ${role}`];
      if (name !== '') parts.push(JSON.stringify(name));
      if (states !== '') parts.push(states);
      parts.push(`[ref=${refOf(el)}]`);
      lines.push({
        depth: filter === undefined ? depth : 0,
        text: parts.join(' '),
        isText: false,
        ...(value === undefined ? {} : { value: cap(value, 100) }),
      });
      childDepth = depth + 1;
      if (LEAF.has(role)) continue;
    }
    const children: Node[] = [];
    const shadow = (el as HTMLElement).shadowRoot;
    for (const parent of shadow === null ? [el] : [shadow, el]) {
      for (let c = parent.firstChild; c !== null; c = c.nextSibling) children.push(c);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i] as Node, childDepth]);
  }

  // An element whose one child is a text reads `- paragraph [ref=e3]: Hello`; one with
  // children ends with `:` (Playwright's form).
  for (const line of lines) {
    if (line.raw !== undefined) line.text = `- text: ${JSON.stringify(cap(line.raw, 200))}`;
  }
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const next = lines[i + 1];
    const after = lines[i + 2];
    let text = line.text;
    if (line.value !== undefined) text += `: ${JSON.stringify(line.value)}`;
    else if (
      !line.isText &&
      next?.isText === true &&
      next.depth > line.depth &&
      (after === undefined || after.depth <= line.depth)
    ) {
      text += `: ${next.text.slice('- text: '.length)}`;
      i++;
    } else if (!line.isText && next !== undefined && next.depth > line.depth) text += ':';
    out.push(`${'  '.repeat(Math.min(line.depth, 40))}${text}`);
  }
  if (truncated) out.push(`- note: the page has more than ${options.maxNodes} nodes; scope it with selector`);
  const text = out.length === 0 ? '' : `${out.join('\n')}\n`;
  // Refs of elements that are gone are dropped as we go: a page that churns keeps few.
  for (const [ref, weak] of state.byRef) if (weak.deref()?.isConnected !== true) state.byRef.delete(ref);
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  state.snapshot = { id, text };

  // The first page, cut as snapshotPageInPage cuts them.
  const end = (() => {
    let stop = Math.min(text.length, options.maxChars);
    const encoder = new TextEncoder();
    for (;;) {
      if (stop < text.length) {
        const newline = text.lastIndexOf('\n', stop - 1);
        if (newline >= 0) stop = newline + 1;
      }
      if (encoder.encode(text.slice(0, stop)).length <= options.maxBytes || stop <= 1) return stop;
      stop = Math.floor(stop * 0.8);
    }
  })();
  return {
    snapshotId: id,
    text: text.slice(0, end),
    totalChars: text.length,
    ...(end < text.length ? { nextOffset: end } : {}),
    truncated,
    nextRef: state.next,
  };
}

/**
 * Runs in the page's isolated world: a later page of the stored snapshot `snapshotId`, cut
 * at a line's end (or mid-line when one line alone is too long), or `stale` when the
 * document has taken another snapshot since, or is another document.
 */
export function snapshotPageInPage(options: {
  snapshotId: string;
  offset: number;
  maxChars: number;
  maxBytes: number;
}): { text: string; totalChars: number; nextOffset?: number } | { stale: true } {
  const g = globalThis as unknown as { __browserfleetRefs?: RefState };
  const stored = g.__browserfleetRefs?.snapshot;
  if (stored === undefined || stored.id !== options.snapshotId || options.offset > stored.text.length) {
    return { stale: true };
  }
  const { text } = stored;
  const start = options.offset;
  const encoder = new TextEncoder();
  let stop = Math.min(text.length, start + options.maxChars);
  for (;;) {
    if (stop < text.length) {
      const newline = text.lastIndexOf('\n', stop - 1);
      if (newline >= start) stop = newline + 1;
    }
    if (encoder.encode(text.slice(start, stop)).length <= options.maxBytes || stop - start <= 1) break;
    stop = start + Math.floor((stop - start) * 0.8);
  }
  return {
    text: text.slice(start, stop),
    totalChars: text.length,
    ...(stop < text.length ? { nextOffset: stop } : {}),
  };
}

/** Runs in the page's isolated world: the element `ref` names, or why it can't be had. */
export function elementOfRefInPage(ref: string): Element | string {
  const g = globalThis as unknown as { __browserfleetRefs?: RefState };
  const state = g.__browserfleetRefs;
  if (state === undefined) return 'no-snapshot';
  const el = state.byRef.get(ref)?.deref();
  if (el === undefined || !el.isConnected) return 'gone';
  return el;
}

/**
 * Runs in the page, on the element to fill: focuses it and selects its content, so what is
 * typed next replaces it; or sets the value itself for the input types typing can't fill
 * (a date, a colour, a range). Answers what was done, or why the element can't be filled.
 */
export function prepareFillInPage(el: Element, value: string): 'type' | 'set' | { refused: string } {
  const tag = el.tagName;
  const html = el as HTMLElement;
  if (tag === 'INPUT') {
    const input = el as HTMLInputElement;
    const type = input.type;
    if (['checkbox', 'radio', 'file', 'button', 'submit', 'reset', 'image', 'hidden'].includes(type)) {
      return { refused: `an <input type=${type}> can't be filled` };
    }
    if (input.disabled || input.readOnly) return { refused: 'the input is disabled or read-only' };
    if (['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'].includes(type)) {
      input.focus();
      input.value = value;
      if (input.value !== value && value !== '')
        return { refused: `"${value}" is not a valid ${type} value` };
      input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return 'set';
    }
    input.focus();
    input.select();
    return 'type';
  }
  if (tag === 'TEXTAREA') {
    const area = el as HTMLTextAreaElement;
    if (area.disabled || area.readOnly) return { refused: 'the textarea is disabled or read-only' };
    area.focus();
    area.select();
    return 'type';
  }
  if (html.isContentEditable) {
    html.focus();
    const range = document.createRange();
    range.selectNodeContents(html);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    return 'type';
  }
  return { refused: `a <${tag.toLowerCase()}> is not an input, a textarea or contenteditable` };
}

/**
 * Runs in the page, on a `<select>`: selects the options whose value or label is one of
 * `values` (none for `[]`), fires `input` and `change`, and answers the selected values.
 */
export function selectOptionsInPage(
  el: Element,
  values: string[],
): { selected: string[] } | { refused: string } {
  if (el.tagName !== 'SELECT') return { refused: `a <${el.tagName.toLowerCase()}> is not a <select>` };
  const select = el as HTMLSelectElement;
  if (select.disabled) return { refused: 'the select is disabled' };
  if (!select.multiple && values.length > 1) return { refused: 'the select takes one value only' };
  const options = Array.from(select.options);
  const wanted = new Set(values);
  const matched = new Set<string>();
  for (const option of options) {
    const label = option.label || (option.textContent ?? '').trim();
    const hit = wanted.has(option.value) ? option.value : wanted.has(label) ? label : undefined;
    option.selected = hit !== undefined && !option.disabled;
    if (option.selected && hit !== undefined) matched.add(hit);
  }
  const missing = values.filter((v) => !matched.has(v));
  if (missing.length > 0)
    return { refused: `no enabled option has the value or label ${JSON.stringify(missing[0])}` };
  select.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  select.dispatchEvent(new Event('change', { bubbles: true }));
  return { selected: Array.from(select.selectedOptions, (o) => o.value) };
}

/** Runs in the page, on an element: focuses it (typing goes there next). */
export function focusInPage(el: Element): void {
  (el as HTMLElement).focus();
}

/** Runs in the page: whether its visible text contains `text`. */
export function pageHasTextInPage(text: string): boolean {
  return (document.body?.innerText ?? document.documentElement?.textContent ?? '').includes(text);
}
