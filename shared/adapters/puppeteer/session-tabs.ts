/**
 * A live session's tabs: every page of its browser, in the order they opened (by the
 * `tabs` command, by the page itself with `window.open` or `target=_blank`, or by a CDP
 * client), and which one is active — the page every other command acts on and the
 * screencast shows. When the active tab closes the newest one left takes over; when none
 * is left (a CDP client closed the last), the next page to open does.
 */
import type { Browser, Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { MAX_SESSION_TABS } from '../../session/session-input.js';
import { SESSION_LOG_LIMITS, truncate } from '../../session/session-log.js';
import { withDeadline } from './command-deadline.js';

/** A tab's title is read in the page; a page busy in a loop doesn't hold the list up longer. */
const TITLE_TIMEOUT_MS = 1_000;
/** A title past this is cut: a tab strip shows far less. */
const MAX_TITLE_CHARS = 500;

export interface TabView {
  index: number;
  url: string;
  title: string;
  active: boolean;
}

export interface SessionTabsOptions {
  browser: Browser;
  /** The page the session started on: the first tab, active. */
  first: Page;
  /** Makes a new tab like the first (viewport, user agent, timezone). */
  setup: (page: Page) => Promise<void>;
  /** Called once for each tab, as it opens (the logs and events listen on it). */
  onTab: (page: Page) => void;
  /**
   * The active tab changed to `page` (the screencast moves there). A `tabs` command answers
   * once it is done: the screencast's keyframe of the new tab is taken with the viewport
   * emulated, and a command right after (`setViewport`) must not race it.
   */
  onActivated: (page: Page) => Promise<void>;
}

export class SessionTabs {
  private readonly pages: Page[] = [];
  private active: Page;
  /** The last change of the active tab's `onActivated`, awaited by the commands. */
  private switched: Promise<void> = Promise.resolve();

  constructor(private readonly options: SessionTabsOptions) {
    this.active = options.first;
    this.adopt(options.first);
    options.browser.on('targetcreated', async (target) => {
      if (target.type() !== 'page') return;
      // A target that closed before it could be read is no tab.
      const created = await target.page().catch(() => null);
      if (created === null || created.isClosed() || this.pages.includes(created)) return;
      if (target.opener() !== undefined && this.pages.length >= MAX_SESSION_TABS) {
        // A page opening windows without end would take the worker's memory: past the
        // bound, its popups close as they open (a CDP client's own pages are its business).
        await created.close().catch(() => {});
        return;
      }
      this.adopt(created);
      // A popup gets the session's viewport and emulation too; one that closes first needs none.
      void options.setup(created).catch(() => {});
      // A CDP client may close our page and open another: follow the newest page.
      if (this.active.isClosed()) this.activate(created);
    });
  }

  /** The page commands act on. */
  get page(): Page {
    return this.active;
  }

  /** Every tab, in the order they opened. */
  list(): Promise<TabView[]> {
    return Promise.all(
      // Cut as the logs cut them: ten data: URLs must still fit one WebSocket message.
      this.pages.map(async (page, index) => ({
        index,
        url: truncate(page.url(), SESSION_LOG_LIMITS.urlChars),
        title: truncate(
          await withDeadline(page.title(), TITLE_TIMEOUT_MS, 'title').catch(() => ''),
          MAX_TITLE_CHARS,
        ),
        active: page === this.active,
      })),
    );
  }

  /**
   * A new tab, made active once `prepare` (a navigation) succeeds; if it fails, the tab
   * closes and the one before stays active, so a failed open leaves nothing behind.
   */
  async open(prepare: (page: Page) => Promise<unknown>): Promise<void> {
    if (this.pages.length >= MAX_SESSION_TABS) {
      throw new BrowserfleetError(
        ERROR_CODES.QUOTA_EXCEEDED,
        `The session has ${this.pages.length} tabs open, the most it may have; close one first.`,
      );
    }
    const page = await this.options.browser.newPage();
    this.adopt(page);
    try {
      await this.options.setup(page);
      await prepare(page);
    } catch (error) {
      await page.close().catch(() => {});
      this.forget(page);
      throw error;
    }
    await this.select(this.pages.indexOf(page));
  }

  async select(index: number): Promise<void> {
    const page = this.at(index);
    this.activate(page);
    // Focus follows, as a person's click on the tab would move it (keyboard, `hasFocus`).
    await page.bringToFront();
    await this.switched;
  }

  /** Closes a tab; closing the last one opens a blank one first: a session always has a page. */
  async close(index: number): Promise<void> {
    const page = this.at(index);
    if (this.pages.length === 1) {
      const blank = await this.options.browser.newPage();
      this.adopt(blank);
      await this.options.setup(blank);
      this.activate(blank);
    }
    await page.close();
    this.forget(page);
    await this.switched;
  }

  private at(index: number): Page {
    const page = this.pages[index];
    if (page === undefined || page.isClosed()) {
      throw new BrowserfleetError(
        ERROR_CODES.NOT_FOUND,
        `No tab ${index}: the session has ${this.pages.length} (${this.pages.length === 1 ? '0' : `0–${this.pages.length - 1}`}); list them with { action: 'list' }.`,
      );
    }
    return page;
  }

  private adopt(page: Page): void {
    if (this.pages.includes(page)) return;
    this.pages.push(page);
    page.once('close', () => this.forget(page));
    this.options.onTab(page);
  }

  private forget(page: Page): void {
    const at = this.pages.indexOf(page);
    if (at === -1) return;
    this.pages.splice(at, 1);
    const newest = this.pages.at(-1);
    if (page === this.active && newest !== undefined) this.activate(newest);
  }

  private activate(page: Page): void {
    if (page === this.active) return;
    this.active = page;
    // What it does fails only with a page gone meanwhile, which the next change follows.
    this.switched = this.options.onActivated(page).catch(() => {});
  }
}
