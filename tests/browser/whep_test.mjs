// Chromium plays the stream through a WHEP client not written here: the
// `whip-whep` package's whep.js (npm), loaded by a tiny page that this script
// serves itself on another origin than the server's (so the WHEP requests
// are cross-origin: the server must answer the CORS preflight).
//
//   node whep_test.mjs --whep http://SERVER:PORT/whep --page http://HOST:PORT
//                      [--min-fps 25] [--seconds 5] [--token T] SCREENSHOT.png
//
// Checks: >= min-fps frames presented (requestVideoFrameCallback) and
// decoded (getStats) over the window; the selected candidate pair (getStats);
// the cube in a screenshot (cube_picture.mjs); POST 201, PATCH 204 (the
// client's trickle) and, on client.stop(), DELETE 200, as the page's fetch()
// saw them.
// Prints one line of JSON; exits 0 on success, 1 on failure.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkCubePicture } from './cube_picture.mjs';
import { launchChromium, runInBrowser, sleep } from './measure.mjs';

const require = createRequire(import.meta.url);
// The package's own file, as npm installed it (package.json "exports" has no
// entry for it, so from its folder).
const WHEP_JS = readFileSync(
  new URL('whep.js', `file://${require.resolve('whip-whep/package.json').replace(/package\.json$/, '')}`));

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>WHEP</title></head>
<body style="margin:0;background:#000;overflow:hidden">
<video id="v" autoplay muted playsinline style="width:100vw;height:100vh;object-fit:contain"></video>
<script type="module">
import { WHEPClient } from './whep.js';
const params = new URLSearchParams(location.search);
const t0 = performance.now();
const st = window.whep = { state: 'starting', errors: [], presented: 0, firstFrameMs: null,
  connectionState: 'new', requests: [] };
// What whep.js's fetch() calls got: method and status, in order.
const pageFetch = window.fetch.bind(window);
window.fetch = async (url, init = {}) => {
  const entry = { method: init.method || 'GET', url: String(url), status: 0 };
  st.requests.push(entry);
  try {
    const res = await pageFetch(url, init);
    entry.status = res.status;
    return res;
  } catch (e) {
    entry.error = String(e);
    throw e;
  }
};
window.addEventListener('unhandledrejection', (e) => st.errors.push('unhandled: ' + e.reason));
const pc = window.pc = new RTCPeerConnection();
pc.addTransceiver('video', { direction: 'recvonly' });
// whep.js owns pc.onconnectionstatechange and pc.onicecandidate.
pc.addEventListener('connectionstatechange', () => { st.connectionState = pc.connectionState; });
const video = document.getElementById('v');
pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
const onFrame = (now, meta) => {
  st.presented = meta.presentedFrames;
  st.width = meta.width;
  st.height = meta.height;
  if (st.firstFrameMs === null) st.firstFrameMs = Math.round(now - t0);
  video.requestVideoFrameCallback(onFrame);
};
video.requestVideoFrameCallback(onFrame);
const client = new WHEPClient();
client.view(pc, params.get('whep'), params.get('token') || undefined).then(
  () => { st.state = 'viewing'; },
  (e) => { st.state = 'failed'; st.errors.push(String(e)); });
window.stopWhep = async () => { await client.stop(); st.state = 'stopped'; };
</script></body></html>`;

function parseArgs(argv) {
  const args = { whep: null, page: null, minFps: 25, seconds: 5, token: null, screenshot: null };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === '--whep') args.whep = rest[++i];
    else if (flag === '--page') args.page = rest[++i];
    else if (flag === '--token') args.token = rest[++i];
    else if (flag === '--min-fps') args.minFps = Number(rest[++i]);
    else if (flag === '--seconds') args.seconds = Number(rest[++i]);
    else if (!args.screenshot && !flag.startsWith('--')) args.screenshot = flag;
    else throw new Error(`unexpected argument: ${flag}`);
  }
  if (!args.whep || !args.page || !args.screenshot || !(args.seconds > 0))
    throw new Error('usage: node whep_test.mjs --whep URL --page http://HOST:PORT [--min-fps N] [--seconds S] SHOT.png');
  return args;
}

// Serves the page and whep.js on the page's origin.
function servePage(pageUrl) {
  const { hostname, port } = new URL(pageUrl);
  const server = createServer((req, res) => {
    const path = new URL(req.url, pageUrl).pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (path === '/whep.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(WHEP_JS);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), hostname, () => resolve(server));
  });
}

async function waitFor(page, what, timeoutMs, predicate) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await page.evaluate(() => window.whep);
    if (st && predicate(st)) return st;
    if (st && st.state === 'failed') throw new Error(`the WHEP client failed: ${st.errors.join('; ')}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(st)}`);
    await sleep(200);
  }
}

// framesDecoded of the inbound video, and the selected pair's candidates.
async function peerStats(page) {
  return page.evaluate(async () => {
    const report = await window.pc.getStats();
    let pairId = null;
    let inbound = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
    });
    const pair = pairId ? report.get(pairId) : null;
    const cand = (id) => {
      const c = id && report.get(id);
      return c && { type: c.candidateType, protocol: c.protocol, address: c.address, port: c.port };
    };
    const codec = inbound && inbound.codecId ? report.get(inbound.codecId) : null;
    return {
      framesDecoded: inbound ? inbound.framesDecoded : 0,
      codec: codec ? codec.mimeType : null,
      pair: pair && { state: pair.state, nominated: pair.nominated, local: cand(pair.localCandidateId),
        remote: cand(pair.remoteCandidateId) },
    };
  });
}

async function run(page, args) {
  const failures = [];
  const url = new URL(args.page);
  url.searchParams.set('whep', args.whep);
  if (args.token) url.searchParams.set('token', args.token);
  const t0 = Date.now();
  await page.goto(url.href, { waitUntil: 'load', timeout: 20000 });
  await waitFor(page, 'first frames', 30000, (st) => st.presented >= 10);
  const firstFrameMs = Date.now() - t0;
  await sleep(1000);
  const before = { st: await page.evaluate(() => window.whep), stats: await peerStats(page), t: Date.now() };
  await sleep(args.seconds * 1000);
  const after = { st: await page.evaluate(() => window.whep), stats: await peerStats(page), t: Date.now() };
  const elapsed = (after.t - before.t) / 1000;
  const fps = Math.round(((after.st.presented - before.st.presented) / elapsed) * 10) / 10;
  const decodedFps = Math.round(((after.stats.framesDecoded - before.stats.framesDecoded) / elapsed) * 10) / 10;
  await page.screenshot({ path: args.screenshot });
  const picture = checkCubePicture(args.screenshot);
  const pair = after.stats.pair;

  await page.evaluate(() => window.stopWhep());
  const requests = await page.evaluate(() => window.whep.requests);

  const statuses = (method) => requests.filter((r) => r.method === method).map((r) => r.status);
  const result = {
    ok: true, fps, decodedFps, seconds: elapsed, firstFrameMs, pageFirstFrameMs: after.st.firstFrameMs,
    width: after.st.width, height: after.st.height, codec: after.stats.codec, pair,
    connectionState: after.st.connectionState, post: statuses('POST'), patch: statuses('PATCH'),
    delete: statuses('DELETE'),
    errors: after.st.errors, picture, screenshot: args.screenshot,
  };
  if (!(fps >= args.minFps)) failures.push(`${fps} fps presented, expected >= ${args.minFps}`);
  if (!(decodedFps >= args.minFps)) failures.push(`${decodedFps} fps decoded, expected >= ${args.minFps}`);
  if (!pair || pair.state !== 'succeeded' || !pair.local || !pair.remote)
    failures.push(`no succeeded selected candidate pair: ${JSON.stringify(pair)}`);
  if (!picture.ok) failures.push(`the screenshot shows no cube: ${picture.why}`);
  if (result.post.length !== 1 || result.post[0] !== 201) failures.push(`POST statuses ${result.post}, expected [201]`);
  if (!result.patch.length || result.patch.some((s) => s !== 204))
    failures.push(`PATCH statuses ${result.patch}, expected 204s`);
  if (result.delete.length !== 1 || result.delete[0] !== 200)
    failures.push(`DELETE statuses ${result.delete}, expected [200] after client.stop()`);
  if (after.st.errors.length) failures.push(`page errors: ${after.st.errors.join('; ')}`);
  if (failures.length) {
    console.error(JSON.stringify(result));
    throw new Error(failures.join('; '));
  }
  return result;
}

let pageServer = null;
process.exitCode = await runInBrowser({
  parseArgs,
  launch: () => launchChromium({ profilePrefix: 'cs-chromium-whep-' }),
  run: async (page, args) => {
    pageServer = await servePage(args.page);
    try {
      return await run(page, args);
    } finally {
      pageServer.close();
    }
  },
});
