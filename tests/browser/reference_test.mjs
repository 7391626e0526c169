// The libwebrtc reference for bench/run_bench.py --loss: opens
// reference_page.html (Chromium sending a canvas stream to itself through two
// RTCPeerConnections) in Debian's headless Chromium and measures it exactly as
// page_test.mjs --bench measures our stream: the same Chromium flags, the same
// 3 s warm-up, the same per-frame record (rVFC), the same DevTools screencast
// for glass-to-glass, and the same JSON fields, plus a `reference` object
// (codec, selected candidate pair, sender figures).
//
//   node reference_test.mjs --bench SECONDS [--screencast] [--codec h264|vp8] [--kbps N]
//
// Run it inside a network namespace with a default route (Chromium picks its
// host address by a route lookup; without one, two peers in one page gather
// nothing) and an nftables rule that keeps every packet inside (see
// bench/run_bench.py). Prints one line of JSON; exits 0 on success, 1 on failure.
//
// The measuring code mirrors page_test.mjs (kept apart so that the page test
// stays as it is); change both together.
import { chromium } from 'playwright-core';
import { decodePngRows } from './png_rows.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE = join(HERE, 'reference_page.html');
const CHROMIUM = process.env.CS_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // A file:// page is its own origin; allow it to use WebRTC without prompts.
  '--allow-file-access-from-files',
];
const PLAYING_TIMEOUT_MS = 60000;
const GROWTH_TIMEOUT_MS = 15000;
const WARMUP_MS = 3000;
const POLL_MS = 200;
const TWO_32 = 2 ** 32;
const STRIP_BLOCKS = 32;
const STRIP_ROW_DIVISOR = 24;
const SCREENCAST_ROWS_DECODED = 64;
const MAX_PLAUSIBLE_LATENCY_MS = 5000;

function parseArgs(argv) {
  const args = { benchSeconds: 10, screencast: false, codec: 'h264', kbps: 2500 };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--bench') args.benchSeconds = Number(rest[++i]);
    else if (a === '--screencast') args.screencast = true;
    else if (a === '--codec') args.codec = rest[++i];
    else if (a === '--kbps') args.kbps = Number(rest[++i]);
    else throw new Error(`unexpected argument: ${a}`);
  }
  if (!(args.benchSeconds > 0)) throw new Error('--bench needs a positive number of seconds');
  if (!(args.kbps > 0)) throw new Error('--kbps needs a positive number');
  return args;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round1 = (x) => (x === null ? null : Math.round(x * 10) / 10);

async function readStats(page) {
  return page.evaluate(() => (window.csStats ? JSON.parse(JSON.stringify(window.csStats)) : null));
}

async function waitForStats(page, what, timeoutMs, ok) {
  const deadline = Date.now() + timeoutMs;
  let stats = null;
  while (Date.now() < deadline) {
    stats = await readStats(page);
    if (stats && ok(stats)) return stats;
    await sleep(POLL_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last csStats: ${JSON.stringify(stats)}`);
}

async function waitUntilPlaying(page) {
  const first = await waitForStats(page, 'video with a timecode', PLAYING_TIMEOUT_MS, (s) =>
    s.framesPresented > 0 && s.fps > 5 && s.width > 0 && s.height > 0 && Number.isFinite(s.latencyMs));
  return waitForStats(page, 'framesPresented to grow', GROWTH_TIMEOUT_MS, (s) =>
    s.framesPresented > first.framesPresented && s.fps > 5 && s.bitrateKbps > 0 && Number.isFinite(s.latencyMs));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

function percentiles(sorted) {
  return {
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted.length ? sorted[sorted.length - 1] : null),
    min: round1(sorted.length ? sorted[0] : null),
  };
}

function longestFreezeMs(log) {
  let longest = 0;
  for (let i = 1; i < log.length; i++) longest = Math.max(longest, log[i].presentedMs - log[i - 1].presentedMs);
  return round1(longest);
}

function frameGaps(log) {
  let count = 0;
  let largest = 0;
  for (let i = 1; i < log.length; i++) {
    const skipped = log[i].frame - log[i - 1].frame - 1;
    if (skipped > 0) {
      count += 1;
      largest = Math.max(largest, skipped);
    }
  }
  return { count, largest };
}

function counterDelta(before, after, key, section = 'receiver') {
  const a = before[section]?.[key], b = after[section]?.[key];
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
}

function receiverBreakdown(before, after) {
  const a = before.receiver, b = after.receiver;
  if (!a || !b) return null;
  const emitted = b.jitterBufferEmittedCount - a.jitterBufferEmittedCount;
  const decoded = b.framesDecoded - a.framesDecoded;
  if (emitted <= 0 || decoded <= 0) return null;
  return {
    jitterBufferMs: round1(((b.jitterBufferDelayS - a.jitterBufferDelayS) * 1000) / emitted),
    decodeMs: round1(((b.totalDecodeTimeS - a.totalDecodeTimeS) * 1000) / decoded),
    processingMs: round1(((b.totalProcessingDelayS - a.totalProcessingDelayS) * 1000) / decoded),
  };
}

function readStripRow(img, row) {
  const blockW = Math.floor(img.width / STRIP_BLOCKS);
  const rowH = Math.floor(img.height / STRIP_ROW_DIVISOR);
  const y = row * rowH + Math.floor(rowH / 2);
  let value = 0;
  for (let b = 0; b < STRIP_BLOCKS; b++) {
    const i = (y * img.width + b * blockW + Math.floor(blockW / 2)) * img.channels;
    value = value * 2 + (img.rows[i] >= 128 ? 1 : 0);
  }
  return value;
}

async function startScreencast(page) {
  const cdp = await page.context().newCDPSession(page);
  const frames = [];
  let recording = false;
  cdp.on('Page.screencastFrame', (f) => {
    cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => {});
    if (recording && f.metadata.timestamp) frames.push({ swapMs: f.metadata.timestamp * 1000, data: f.data });
  });
  await cdp.send('Page.startScreencast', { format: 'png', everyNthFrame: 1, maxWidth: 640, maxHeight: 360 });
  return {
    record() { recording = true; },
    async stop() {
      recording = false;
      await cdp.send('Page.stopScreencast').catch(() => {});
      return frames;
    },
  };
}

function diffMod32(a, b) {
  const d = (((a - b) % TWO_32) + TWO_32) % TWO_32;
  return d >= 2 ** 31 ? d - TWO_32 : d;
}

function screencastLatencies(frames) {
  const out = [];
  let lastFrame = null;
  for (const f of frames) {
    let img;
    try {
      img = decodePngRows(Buffer.from(f.data, 'base64'), SCREENCAST_ROWS_DECODED);
    } catch {
      continue;
    }
    const renderMs = readStripRow(img, 0);
    const frame = readStripRow(img, 1);
    if (frame === lastFrame) continue;
    lastFrame = frame;
    const d = diffMod32(f.swapMs % TWO_32, renderMs);
    if (Math.abs(d) < MAX_PLAUSIBLE_LATENCY_MS) out.push(d);
  }
  return out;
}

function screencastSummary(values, captured) {
  const sorted = values.slice().sort((a, b) => a - b);
  return { framesCaptured: captured, framesDecoded: sorted.length, ...percentiles(sorted) };
}

async function bench(page, seconds, screencast) {
  const cast = screencast ? await startScreencast(page) : null;
  await sleep(WARMUP_MS);
  const before = await readStats(page);
  await page.evaluate(() => window.csResetLog());
  cast?.record();
  const started = Date.now();
  await sleep(seconds * 1000);
  const castFrames = cast ? await cast.stop() : [];
  const elapsedS = (Date.now() - started) / 1000;
  const log = await page.evaluate(() => window.csFrameLog.slice());
  const after = await readStats(page);
  const latencies = log.map((e) => e.latencyMs).sort((a, b) => a - b);
  const gaps = frameGaps(log);
  const sum = latencies.reduce((a, b) => a + b, 0);
  const bytes = counterDelta(before, after, 'bytesReceived');
  const sentFrames = counterDelta(before.reference, after.reference, 'framesEncoded', 'sender');
  return {
    mode: 'bench',
    design: 'libwebrtc',
    seconds: round1(elapsedS),
    width: after.width,
    height: after.height,
    frames: log.length,
    framesPerSecond: round1(log.length / elapsedS),
    framesLost: after.framesLost - before.framesLost,
    frameNumberGaps: gaps.count,
    largestFrameNumberGap: gaps.largest,
    longestFreezeMs: longestFreezeMs(log),
    reconnects: 0,
    bitrateKbps: after.bitrateKbps,
    averageBitrateKbps: bytes === null ? null : Math.round((bytes * 8) / elapsedS / 1000),
    nacksSent: counterDelta(before, after, 'nackCount'),
    plisSent: counterDelta(before, after, 'pliCount'),
    firsSent: counterDelta(before, after, 'firCount'),
    packetsLost: counterDelta(before, after, 'packetsLost'),
    packetsReceived: counterDelta(before, after, 'packetsReceived'),
    receiver: receiverBreakdown(before, after),
    toCompositorMsP50: round1(
      percentile(log.map((e) => e.toCompositorMs).sort((a, b) => a - b), 50)),
    screencast: cast ? screencastSummary(screencastLatencies(castFrames), castFrames.length) : null,
    latencyMs: {
      ...percentiles(latencies),
      mean: round1(latencies.length ? sum / latencies.length : null),
    },
    fecPacketsReceived: counterDelta(before, after, 'fecPacketsReceived'),
    fecPacketsDiscarded: counterDelta(before, after, 'fecPacketsDiscarded'),
    retransmittedPacketsReceived: counterDelta(before, after, 'retransmittedPacketsReceived'),
    reference: {
      codec: after.reference.codec,
      receivedCodec: after.reference.receivedCodec ?? null,
      answerFormats: after.reference.answerFormats ?? null,
      decoder: after.receiver?.decoderImplementation ?? null,
      pair: after.reference.pair,
      framesDrawnPerSecond: round1(
        (after.reference.framesDrawn - before.reference.framesDrawn) / elapsedS),
      framesEncodedPerSecond: sentFrames === null ? null : round1(sentFrames / elapsedS),
      framesDecodedPerSecond: round1((counterDelta(before, after, 'framesDecoded') ?? NaN) / elapsedS),
      // rVFC's presentedFrames: frames the compositor presented, whether or not a callback ran
      // for each (framesPerSecond counts callbacks with a readable strip, as page_test does).
      compositorFramesPerSecond: round1(
        (after.reference.compositorFrames - before.reference.compositorFrames) / elapsedS),
      sender: after.reference.sender,
      sendTransport: after.reference.sendTransport ?? null,
      recvTransport: after.reference.recvTransport ?? null,
    },
  };
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv);
  } catch (e) {
    console.error(e.message);
    return 1;
  }
  const profile = mkdtempSync(join(tmpdir(), 'cs-chromium-ref-'));
  const pageLog = [];
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    await page.setViewportSize({ width: 1280, height: 720 });
    const url = pathToFileURL(PAGE);
    url.search = new URLSearchParams({ codec: args.codec, kbps: String(args.kbps) }).toString();
    await page.goto(url.href, { waitUntil: 'load', timeout: 20000 });
    await waitUntilPlaying(page);
    const result = await bench(page, args.benchSeconds, args.screencast);
    console.log(JSON.stringify(result));
    return 0;
  } catch (e) {
    console.error(`FAIL: ${e.message}`);
    if (pageLog.length) console.error(`page log:\n  ${pageLog.slice(-30).join('\n  ')}`);
    return 1;
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

process.exitCode = await main();
