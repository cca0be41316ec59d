/**
 * The session command table: for each method, the schema its params are parsed with and
 * what runs it. Typed by method, so each handler gets its own params, parsed and defaulted.
 * Most go to the browser as they are; a screenshot's bytes and downloaded files are stored
 * and answered as URLs.
 */
import type { z } from 'zod';
import { ARTIFACT_KEYS } from '../contracts.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import type { BrowserCommandMethod, SessionBrowser } from './ports.js';
import { listDownloads, type StoredDownloads } from './session-downloads.js';
import { COMMAND_PARAMS, type CommandMethod, type CommandParams } from './session-input.js';

/** What a command runs against. */
export interface CommandContext {
  browser: SessionBrowser;
  sessionId: string;
  commandId: string;
  timeoutMs: number;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  /** The session host's clock (names screenshot keys). */
  now: () => number;
  /** The session's downloads stored so far (each is stored once). */
  storedDownloads: StoredDownloads;
}

export interface SessionCommand<M extends CommandMethod> {
  params: z.ZodType<CommandParams<M>>;
  run(context: CommandContext, params: CommandParams<M>): Promise<unknown>;
}

export type SessionCommandTable = { [M in CommandMethod]: SessionCommand<M> };

/** A command the browser answers itself. */
const byBrowser = <M extends BrowserCommandMethod>(
  method: M,
  params: z.ZodType<CommandParams<M>>,
): SessionCommand<M> => ({
  params,
  run: (context, p) => context.browser.execute(method, p, context.timeoutMs),
});

const screenshot: SessionCommand<'screenshot'> = {
  params: COMMAND_PARAMS.screenshot,
  run: async (context, p) => {
    const shot = await context.browser.screenshot(p, context.timeoutMs);
    const extension = shot.contentType.split('/')[1] ?? 'bin';
    const key = ARTIFACT_KEYS.sessionScreenshot.key(
      context.sessionId,
      context.commandId,
      context.now(),
      extension,
    );
    await context.artifacts.put(key, shot.body, shot.contentType);
    return {
      contentType: shot.contentType,
      size: shot.body.length,
      url: await context.artifacts.presignGet(key, context.artifactUrlTtlSeconds),
    };
  },
};

const downloads: SessionCommand<'downloads'> = {
  params: COMMAND_PARAMS.downloads,
  run: (context) =>
    listDownloads({
      browser: context.browser,
      sessionId: context.sessionId,
      artifacts: context.artifacts,
      artifactUrlTtlSeconds: context.artifactUrlTtlSeconds,
      stored: context.storedDownloads,
    }),
};

export const SESSION_COMMANDS: SessionCommandTable = {
  navigate: byBrowser('navigate', COMMAND_PARAMS.navigate),
  click: byBrowser('click', COMMAND_PARAMS.click),
  type: byBrowser('type', COMMAND_PARAMS.type),
  press: byBrowser('press', COMMAND_PARAMS.press),
  scroll: byBrowser('scroll', COMMAND_PARAMS.scroll),
  screenshot,
  evaluate: byBrowser('evaluate', COMMAND_PARAMS.evaluate),
  setViewport: byBrowser('setViewport', COMMAND_PARAMS.setViewport),
  back: byBrowser('back', COMMAND_PARAMS.back),
  forward: byBrowser('forward', COMMAND_PARAMS.forward),
  reload: byBrowser('reload', COMMAND_PARAMS.reload),
  snapshot: byBrowser('snapshot', COMMAND_PARAMS.snapshot),
  hover: byBrowser('hover', COMMAND_PARAMS.hover),
  select: byBrowser('select', COMMAND_PARAMS.select),
  fill: byBrowser('fill', COMMAND_PARAMS.fill),
  wait: byBrowser('wait', COMMAND_PARAMS.wait),
  console: byBrowser('console', COMMAND_PARAMS.console),
  network: byBrowser('network', COMMAND_PARAMS.network),
  tabs: byBrowser('tabs', COMMAND_PARAMS.tabs),
  downloads,
};
