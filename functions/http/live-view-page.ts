/**
 * The live-view page: a session's screencast with takeover (clicks, typing, scrolling go to
 * the remote page) and its status and console beside it. Plain HTML and a small script
 * that speaks the WebSocket protocol (README, "Live sessions") with the page's ticket.
 */

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export const liveViewPage = (input: { sessionId: string; websocketUrl: string; ticket: string }): string => {
  const config = JSON.stringify({
    sessionId: input.sessionId,
    websocketUrl: input.websocketUrl,
    ticket: input.ticket,
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>browserfleet live view · ${escapeHtml(input.sessionId)}</title>
<style>
  :root { font: 14px system-ui, sans-serif; color: #1d2330; background: #eef1f5; }
  body { margin: 0; display: grid; grid-template-columns: minmax(0, 1fr) 320px; height: 100vh; }
  main { display: flex; flex-direction: column; padding: 12px; gap: 8px; min-width: 0; }
  form { display: flex; gap: 6px; }
  form input { flex: 1; padding: 6px 8px; border: 1px solid #c3cad6; border-radius: 6px; }
  button { padding: 6px 10px; border: 1px solid #c3cad6; border-radius: 6px; background: #fff; cursor: pointer; }
  #viewer { flex: 1; display: flex; align-items: flex-start; justify-content: center; outline: none; min-height: 0; }
  #viewer:focus-visible #screen { box-shadow: 0 0 0 3px #5b8def; }
  #screen { max-width: 100%; max-height: 100%; background: #fff; box-shadow: 0 1px 4px #0003; cursor: crosshair; }
  aside { border-left: 1px solid #d5dae3; background: #fff; padding: 12px; display: flex; flex-direction: column; gap: 10px; min-height: 0; }
  #status { font-weight: 600; } #status[data-status=live] { color: #137333; } #status[data-status=reconnecting] { color: #8a5a00; } #status[data-status=closed], #status[data-status=failed] { color: #b3261e; }
  #console { list-style: none; margin: 0; padding: 0; overflow: auto; flex: 1; font: 12px ui-monospace, monospace; }
  #console li { border-bottom: 1px solid #eef1f5; padding: 3px 0; white-space: pre-wrap; word-break: break-word; }
  #console li.error { color: #b3261e; } #console li.warn { color: #8a5a00; }
  small { color: #5f6b7d; }
</style>
</head>
<body>
<main>
  <form id="nav"><button type="button" data-cmd="back" title="Back">◀</button><button type="button" data-cmd="forward" title="Forward">▶</button><button type="button" data-cmd="reload" title="Reload">⟳</button><input id="address" name="url" placeholder="https://…" autocomplete="off"><button>Go</button></form>
  <div id="viewer" tabindex="0"><img id="screen" alt="Live view of the session" data-frames="0"></div>
  <small>Click the picture to take over: clicks, typing and scrolling go to the remote page.</small>
</main>
<aside>
  <div>Session <code>${escapeHtml(input.sessionId)}</code></div>
  <div>Status: <span id="status" data-status="connecting">connecting</span> <span id="reason"></span></div>
  <div>Console</div>
  <ul id="console"></ul>
</aside>
<script>
(() => {
  const config = ${config};
  const $ = (id) => document.getElementById(id);
  const screen = $('screen'), viewer = $('viewer'), statusEl = $('status'), log = $('console');
  let size = { width: 1, height: 1 }, seq = 0, frames = 0, ws, ticket = config.ticket, retries = 0, ended = false;
  const send = (m) => ws && ws.readyState === 1 && ws.send(JSON.stringify(m));
  // Input goes one command at a time (the next once the last is answered), so keystrokes
  // can't overtake each other on the way to the page.
  const queue = []; let inFlight;
  const pump = () => { if (inFlight || !queue.length || !ws || ws.readyState !== 1) return; inFlight = String(++seq); send({ action: 'command', id: inFlight, ...queue.shift() }); };
  const command = (method, params) => { queue.push({ method, params }); pump(); };
  const answered = (id) => { if (id === inFlight) { inFlight = undefined; pump(); } };
  const setStatus = (s, reason) => { statusEl.textContent = s; statusEl.dataset.status = s; $('reason').textContent = reason ? '(' + reason.code + ')' : ''; };
  const line = (cls, text) => { const li = document.createElement('li'); li.className = cls; li.textContent = text; log.append(li); log.scrollTop = log.scrollHeight; while (log.children.length > 500) log.firstChild.remove(); };
  // A dropped connection (API Gateway ends every one after 2 hours) comes back on its own,
  // with the newest ticket the platform handed out, until the session ends.
  const connect = () => {
    ws = new WebSocket(config.websocketUrl + '?ticket=' + encodeURIComponent(ticket));
    // Messages are handled concurrently (as on API Gateway): ask for frames once attached.
    ws.onopen = () => { retries = 0; send({ action: 'attach', sessionId: config.sessionId }); send({ action: 'ticket' }); };
    ws.onclose = () => {
      inFlight = undefined;
      if (ended) return;
      if (retries >= 8) { setStatus('disconnected'); return; }
      setStatus('reconnecting');
      setTimeout(connect, Math.min(10000, 500 * 2 ** retries++));
    };
    ws.onmessage = onMessage;
  };
  const onMessage = (e) => {
    const m = JSON.parse(e.data);
    switch (m.type) {
      case 'frame': size = m.metadata; screen.src = 'data:image/jpeg;base64,' + m.data; screen.dataset.frames = String(++frames); break;
      case 'attached': setStatus(m.status); send({ action: 'screencast', enabled: true, quality: 60, maxFps: 10 }); pump(); break;
      case 'status': setStatus(m.status, m.reason); break;
      case 'closed': ended = true; setStatus(m.reason && ['WORKER_LOST','BROWSER_CRASHED','START_FAILED','NO_CAPACITY'].includes(m.reason.code) ? 'failed' : 'closed', m.reason); line('warn', 'session ended: ' + m.reason.code + ' — ' + m.reason.message); break;
      case 'ticket': ticket = m.ticket; break;
      case 'navigation': $('address').value = m.url; line('nav', '→ ' + m.url); break;
      case 'console': line(m.level, '[' + m.level + '] ' + m.text); break;
      case 'pageerror': line('error', 'page error: ' + m.message); break;
      case 'result': answered(m.id); break;
      case 'error': answered(m.id); if (m.error.code === 'SESSION_NOT_LIVE' && !m.id) ended = true; line('error', (m.id ? '#' + m.id + ' ' : '') + m.error.code + ': ' + m.error.message); break;
    }
  };
  connect();
  const point = (e) => { const r = screen.getBoundingClientRect(); return { x: Math.round((e.clientX - r.left) / r.width * size.width), y: Math.round((e.clientY - r.top) / r.height * size.height) }; };
  screen.addEventListener('click', (e) => { viewer.focus(); command('click', point(e)); });
  screen.addEventListener('wheel', (e) => { e.preventDefault(); command('scroll', { ...point(e), deltaX: Math.round(e.deltaX), deltaY: Math.round(e.deltaY) }); }, { passive: false });
  viewer.addEventListener('keydown', (e) => {
    if (e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    if (e.key.length === 1) command('type', { text: e.key }); else command('press', { key: e.key });
  });
  $('nav').addEventListener('submit', (e) => { e.preventDefault(); let u = $('address').value.trim(); if (!/^https?:/.test(u)) u = 'https://' + u; command('navigate', { url: u }); });
  for (const b of document.querySelectorAll('[data-cmd]')) b.addEventListener('click', () => command(b.dataset.cmd, {}));
  // API Gateway closes a connection idle for 10 minutes; tickets last 10 minutes.
  setInterval(() => { send({ action: 'ping' }); send({ action: 'ticket' }); }, 4 * 60 * 1000);
})();
</script>
</body>
</html>`;
};
