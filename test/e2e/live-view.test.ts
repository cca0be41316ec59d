/**
 * The live-view page in real headless Chromium: it renders the session's screencast, and a
 * click and typing made in the viewer change the remote page.
 */
import { mkdirSync } from 'node:fs';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbConnectionStore } from '../../shared/adapters/dynamodb-connection-store.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { connectWs, isLive } from '../support/ws-client.js';

const REMOTE = `<!doctype html><title>Remote</title><body style="margin:0;background:#f6f0e0">
<h1 id="h" style="margin:20px">not clicked</h1>
<button id="b" style="position:absolute;left:100px;top:200px;width:300px;height:120px;font-size:32px"
  onclick="document.getElementById('h').textContent='clicked from the viewer'">Click me</button>
<input id="i" style="position:absolute;left:100px;top:400px;width:300px;height:40px;font-size:24px">
<script>console.log('remote page ready')</script></body>`;

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let fixtures: FixtureServer;
let viewerBrowser: Browser;

beforeAll(async () => {
  fixtures = await startFixtureServer({ '/': REMOTE });
  cloud = await startTestCloud({ lambdaTier: false });
  chromium.setGraphicsMode = false;
  viewerBrowser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    headless: 'shell',
    args: ['--no-sandbox'],
  });
});
afterAll(async () => {
  await viewerBrowser?.close();
  await cloud?.dispose();
  await fixtures?.close();
});

/** The connections attached to a session, from the state table. */
const attachedConnections = async (sessionId: string): Promise<string[]> => {
  const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  try {
    return await new DynamoDbConnectionStore(clients.dynamo, cloud.names.stateTable).attached(
      'local',
      sessionId,
    );
  } finally {
    destroyAwsClients(clients);
  }
};

/** A live 800×600 session on the remote fixture page, with a program's client attached. */
const sessionOnTheRemotePage = async () => {
  const api = apiClient(cloud.url, cloud.apiKey);
  const created = await api.call('POST', '/v1/sessions', {
    body: JSON.stringify({ viewport: { width: 800, height: 600 } }),
    headers: { 'content-type': 'application/json' },
  });
  const id = created.body.id as string;
  const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
  ws.send({ action: 'attach', sessionId: id });
  await ws.next(isLive, 45_000);
  await ws.command('navigate', { url: `${fixtures.url}/` });
  return { api, id, ws };
};

describe('live view', () => {
  it('shows the screencast, and a click and typing in the viewer drive the remote page', async () => {
    // A program drives the session to a page first; the person watches and takes over.
    const { api, id, ws } = await sessionOnTheRemotePage();

    const { liveViewUrl } = (await api.call('GET', `/v1/sessions/${id}`)).body;
    expect(liveViewUrl).toMatch(new RegExp(`^${cloud.url}/v1/sessions/${id}/live\\?ticket=`));
    const viewer = await viewerBrowser.newPage();
    await viewer.setViewport({ width: 1280, height: 800 });
    const res = await viewer.goto(liveViewUrl);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toContain('text/html');
    await viewer.waitForFunction(() => document.getElementById('status')?.dataset.status === 'live');
    await viewer.waitForFunction(
      () => Number((document.getElementById('screen') as HTMLImageElement).dataset.frames) >= 1,
    );
    const natural = await viewer.$eval('#screen', (img) => ({
      width: (img as HTMLImageElement).naturalWidth,
      height: (img as HTMLImageElement).naturalHeight,
    }));
    expect(natural.width).toBeGreaterThan(0);

    // Click the middle of the remote button, through the picture of it.
    const rect = await viewer.$eval('#screen', (img) => {
      const r = img.getBoundingClientRect();
      return { x: r.left, y: r.top, width: r.width, height: r.height };
    });
    const before = await viewer.$eval('#screen', (img) => (img as HTMLImageElement).src);
    await viewer.mouse.click(rect.x + (250 / 800) * rect.width, rect.y + (260 / 600) * rect.height);
    const heading = async () =>
      (await ws.command('evaluate', { expression: "document.getElementById('h').textContent" })).value;
    await expect.poll(heading, { timeout: 10_000 }).toBe('clicked from the viewer');
    // The picture follows: the page's one repaint reaches the viewer despite the frame-rate cap.
    await viewer.waitForFunction(
      (old) => (document.getElementById('screen') as HTMLImageElement).src !== old,
      {},
      before,
    );

    // Take over the keyboard: click the remote input, then type into the viewer.
    await viewer.mouse.click(rect.x + (250 / 800) * rect.width, rect.y + (420 / 600) * rect.height);
    await viewer.keyboard.type('hi');
    const typed = async () =>
      (await ws.command('evaluate', { expression: "document.getElementById('i').value" })).value;
    await expect.poll(typed, { timeout: 10_000 }).toBe('hi');
    // A viewer that joins a page that isn't changing still gets its picture at once.
    await viewer.reload();
    await viewer.waitForFunction(() => document.getElementById('status')?.dataset.status === 'live');
    await viewer.waitForFunction(
      () => Number((document.getElementById('screen') as HTMLImageElement).dataset.frames) >= 1,
    );
    // The console line reached the panel beside the picture.
    await ws.command('reload');
    await viewer.waitForFunction(() =>
      document.getElementById('console')?.textContent?.includes('remote page ready'),
    );
    mkdirSync('.data', { recursive: true });
    await viewer.screenshot({ path: '.data/live-view.png' });

    // A tampered ticket gets no page.
    const tampered = await fetch(
      liveViewUrl.replace(/ticket=(.)/, (_: string, c: string) => `ticket=${c === 'a' ? 'b' : 'a'}`),
    );
    expect(tampered.status).toBe(401);
    await viewer.close();
    ws.close();
    await api.call('DELETE', `/v1/sessions/${id}`);
  });

  it('reconnects on its own when API Gateway drops its connection, and the person keeps control', async () => {
    const { api, id, ws } = await sessionOnTheRemotePage();
    // Only the viewer stays attached, so the state table names its connection.
    ws.send({ action: 'detach' });
    await ws.next((m) => m.type === 'detached');

    const { liveViewUrl } = (await api.call('GET', `/v1/sessions/${id}`)).body;
    const viewer = await viewerBrowser.newPage();
    await viewer.setViewport({ width: 1280, height: 800 });
    await viewer.goto(liveViewUrl);
    await viewer.waitForFunction(
      () => Number((document.getElementById('screen') as HTMLImageElement).dataset.frames) >= 1,
    );
    const [dropped] = await attachedConnections(id);
    expect(dropped).toBeDefined();

    // The management API closes the viewer's connection, as API Gateway does after 2 hours.
    const management = new ApiGatewayManagementApiClient({
      endpoint: cloud.env.WEBSOCKET_MANAGEMENT_URL ?? '',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const framesBefore = await viewer.$eval('#screen', (img) =>
      Number((img as HTMLImageElement).dataset.frames),
    );
    await management.send(new DeleteConnectionCommand({ ConnectionId: dropped }));
    management.destroy();
    // Back on a new connection, attached, with a new picture.
    await expect
      .poll(async () => (await attachedConnections(id)).filter((c) => c !== dropped).length, {
        timeout: 20_000,
      })
      .toBe(1);
    await viewer.waitForFunction(
      (before) =>
        document.getElementById('status')?.dataset.status === 'live' &&
        Number((document.getElementById('screen') as HTMLImageElement).dataset.frames) > before,
      {},
      framesBefore,
    );
    const rect = await viewer.$eval('#screen', (img) => {
      const r = img.getBoundingClientRect();
      return { x: r.left, y: r.top, width: r.width, height: r.height };
    });
    await viewer.mouse.click(rect.x + (250 / 800) * rect.width, rect.y + (260 / 600) * rect.height);
    const before = ws.messages.length;
    ws.send({ action: 'attach', sessionId: id });
    await ws.next((m) => m.type === 'attached' && ws.messages.indexOf(m) >= before);
    const heading = async () =>
      (await ws.command('evaluate', { expression: "document.getElementById('h').textContent" })).value;
    await expect.poll(heading, { timeout: 10_000 }).toBe('clicked from the viewer');
    await viewer.close();
    ws.close();
    await api.call('DELETE', `/v1/sessions/${id}`);
  });
});
