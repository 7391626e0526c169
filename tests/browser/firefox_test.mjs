// Firefox ESR and Chromium watch the same server at once (issue 13):
//  - each receives the codec expected of it (the page's own getStats:
//    inbound-rtp's codec mimeType): Firefox, which offers no H.264, VP8;
//    Chromium H.264; and Firefox's offer (the page's codec handling) still
//    holds VP8;
//  - both present frames at full rate (requestVideoFrameCallback counts over
//    the same SECONDS, measured at once);
//  - the overlay of each names its codec and rung ('VP8 · rung 0/3 · ...');
//  - a screenshot of each shows the cube (cube_picture.mjs).
//
//   node firefox_test.mjs URL [--seconds 8] [--min-fps 27] [--firefox-codec VP8]
//        [--chromium-codec H264] [--firefox-shot PNG] [--chromium-shot PNG]
//
// Prints one line of JSON; exits 0 when every check holds, 1 otherwise.
import { frameGaps, launchChromium, longestFreezeMs, readStats, round1, sleep, waitUntilPlaying } from './measure.mjs';
import { launchFirefox } from './firefox.mjs';
import { checkCubePicture } from './cube_picture.mjs';

const OVERLAY_TIMEOUT_MS = 10000;
// 'VP8 · rung 1/3 · 1000 kbit/s · 640×360' (web/viewer.js renditionLine).
const RENDITION_LINE = /^(\S+) · rung (\d+)\/(\d+) · (\d+) kbit\/s · (\d+)×(\d+)$/m;

function parseArgs(argv) {
  const args = {
    url: null, seconds: 8, minFps: 27, firefoxCodec: 'VP8', chromiumCodec: 'H264',
    firefoxShot: '/tmp/cube-streamer-firefox.png', chromiumShot: '/tmp/cube-streamer-chromium.png',
  };
  const rest = argv.slice(2);
  const value = (i) => {
    if (i >= rest.length) throw new Error(`${rest[i - 1]} needs a value`);
    return rest[i];
  };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--seconds') args.seconds = Number(value(++i));
    else if (a === '--min-fps') args.minFps = Number(value(++i));
    else if (a === '--firefox-codec') args.firefoxCodec = value(++i);
    else if (a === '--chromium-codec') args.chromiumCodec = value(++i);
    else if (a === '--firefox-shot') args.firefoxShot = value(++i);
    else if (a === '--chromium-shot') args.chromiumShot = value(++i);
    else if (!args.url && !a.startsWith('--')) args.url = a;
    else throw new Error(`unexpected argument: ${a}`);
  }
  if (!args.url) throw new Error('usage: node firefox_test.mjs URL [--seconds S] [--min-fps F] ...');
  if (!(args.seconds >= 8)) throw new Error('--seconds must be at least 8');
  return args;
}

// The page's peer connection, asked directly: what it offered and receives.
async function peerCodecs(page) {
  return page.evaluate(async () => {
    const pc = window.csPeerConnection;
    if (!pc) return null;
    const sdp = pc.localDescription ? pc.localDescription.sdp : '';
    const offered = [...sdp.matchAll(/^a=rtpmap:\d+ ([^/\r\n]+)\//gm)].map((m) => m[1].toUpperCase());
    let received = null;
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video' || !r.codecId) return;
      const codec = report.get(r.codecId);
      if (codec) received = codec.mimeType;
    });
    return { offered, received };
  });
}

// Frames presented (requestVideoFrameCallback) over `seconds`, by the page's
// own clock; and the longest wait between two of them.
async function presentedRate(page, seconds) {
  const mark = () => page.evaluate(() => ({ n: window.csStats.framesPresented, t: performance.now(),
    decoded: window.csStats.receiver?.framesDecoded ?? null }));
  const a = await mark();
  await page.evaluate(() => window.csResetLog());
  await sleep(seconds * 1000);
  const b = await mark();
  const log = await page.evaluate(() => window.csFrameLog.slice());
  return {
    frames: b.n - a.n,
    seconds: round1((b.t - a.t) / 1000),
    fps: round1(((b.n - a.n) * 1000) / (b.t - a.t)),
    longestFreezeMs: longestFreezeMs(log),
    // Where frames go missing: not decoded (never sent or received: the
    // server's encoder, the network) or decoded and not presented.
    decodedFps: a.decoded === null || b.decoded === null ? null : round1(((b.decoded - a.decoded) * 1000) / (b.t - a.t)),
    frameNumberGaps: frameGaps(log),
    latencyMsP50: round1(log.length ? log.map((e) => e.latencyMs).sort((x, y) => x - y)[log.length >> 1] : null),
  };
}

async function overlayRendition(page) {
  const text = () => page.evaluate(() => document.getElementById('overlay-text').textContent);
  const deadline = Date.now() + OVERLAY_TIMEOUT_MS;
  let t = await text();
  while (!RENDITION_LINE.test(t) && Date.now() < deadline) {
    await sleep(200);
    t = await text();
  }
  const m = RENDITION_LINE.exec(t);
  return { text: t, line: m ? m[0] : null, codec: m ? m[1] : null, rung: m ? Number(m[2]) : null,
    rungs: m ? Number(m[3]) : null };
}

async function run(args) {
  const failures = [];
  const result = { mode: 'firefox+chromium', ok: false, failures };
  const browsers = {};
  try {
    // Settled, not all: one that starts is closed below whatever the other does.
    const launched = await Promise.allSettled([
      launchFirefox({ profilePrefix: 'cs-firefox-test-' }),
      launchChromium({ profilePrefix: 'cs-chromium-firefox-test-' }),
    ]);
    for (const [i, name] of ['firefox', 'chromium'].entries()) {
      if (launched[i].status === 'fulfilled') browsers[name] = launched[i].value;
      else throw new Error(`${name} did not start: ${launched[i].reason?.message}`);
    }
    const { firefox, chromium } = browsers;
    const sides = [
      { name: 'firefox', b: firefox, codec: args.firefoxCodec, shot: args.firefoxShot },
      { name: 'chromium', b: chromium, codec: args.chromiumCodec, shot: args.chromiumShot },
    ];
    result.firefoxVersion = await firefox.browser.version();
    await Promise.all(sides.map((s) => s.b.page.goto(args.url, { waitUntil: 'load', timeout: 20000 })));
    await Promise.all(sides.map(async (s) => {
      try {
        await waitUntilPlaying(s.b.page);
      } catch (e) {
        throw new Error(`${s.name}: ${e.message}`);
      }
    }));
    const rates = await Promise.all(sides.map((s) => presentedRate(s.b.page, args.seconds)));
    for (const [i, s] of sides.entries()) {
      const page = s.b.page;
      const codecs = await peerCodecs(page);
      const overlay = await overlayRendition(page);
      const stats = await readStats(page);
      await page.screenshot({ path: s.shot });
      const picture = checkCubePicture(s.shot);
      const expectMime = `video/${s.codec}`.toLowerCase();
      const r = { ...rates[i], codecs, overlay: overlay.line || overlay.text, rendition: stats.rendition,
        pageCodec: stats.codec, errors: stats.errors, screenshot: s.shot, picture };
      result[s.name] = r;
      const fail = (what) => failures.push(`${s.name}: ${what}`);
      if (!codecs || (codecs.received || '').toLowerCase() !== expectMime)
        fail(`receives ${codecs?.received}, expected ${expectMime}`);
      if (!codecs || !codecs.offered.includes(s.codec)) fail(`its offer has no ${s.codec}: ${codecs?.offered}`);
      if (!(r.fps >= args.minFps)) fail(`${r.fps} fps presented over ${r.seconds} s, expected >= ${args.minFps}`);
      if (overlay.codec !== s.codec) fail(`overlay shows no '${s.codec} · rung N/R · …' line: ${JSON.stringify(overlay.text)}`);
      else if (!stats.rendition || overlay.rung !== stats.rendition.rung || overlay.rungs !== stats.rendition.rungs)
        fail(`overlay's rung ${overlay.rung}/${overlay.rungs} is not the server's ${JSON.stringify(stats.rendition)}`);
      if (!picture.ok) fail(`screenshot ${s.shot}: ${picture.why}`);
    }
  } catch (e) {
    failures.push(e.message);
    for (const [name, b] of Object.entries(browsers)) {
      if (b.pageLog.length) failures.push(`${name} page log: ${b.pageLog.slice(-15).join(' | ')}`);
    }
  } finally {
    await Promise.all(Object.values(browsers).map((b) => b.close()));
  }
  result.ok = failures.length === 0;
  return result;
}

let args;
try {
  args = parseArgs(process.argv);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
const result = await run(args);
console.log(JSON.stringify(result));
if (!result.ok) console.error(`FAIL:\n  ${result.failures.join('\n  ')}`);
process.exitCode = result.ok ? 0 : 1;
