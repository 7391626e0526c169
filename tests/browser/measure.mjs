// The measuring code that page_test.mjs (our stream, from the server's page)
// and reference_test.mjs (the libwebrtc reference, reference_page.html) share,
// so that both are measured alike: the same Chromium flags, the same 3 s
// warm-up, the same per-frame record (rVFC), the same DevTools screencast for
// glass-to-glass, and the same JSON fields. Each page exposes window.csStats,
// csFrameLog and csResetLog (web/viewer.js; reference_page.html).
import { chromium } from 'playwright-core';
import { decodePngRows } from './png_rows.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CS_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // No name lookups at all (the tests open IP addresses): with a default
  // route (cs_guard_route) Chromium 156 otherwise asks DNS for
  // accounts.google.com, clients2.google.com, update.googleapis.com and
  // optimizationguide-pa.googleapis.com despite the flags above.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 10.*, EXCLUDE 127.0.0.1',
];
const PLAYING_TIMEOUT_MS = 60000;
const GROWTH_TIMEOUT_MS = 15000;
const WARMUP_MS = 3000;
const POLL_MS = 200;

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function readStats(page) {
  return page.evaluate(() => (window.csStats ? JSON.parse(JSON.stringify(window.csStats)) : null));
}

// Polls csStats until ok(stats) holds or the deadline passes.
export async function waitForStats(page, what, timeoutMs, ok) {
  const deadline = Date.now() + timeoutMs;
  let stats = null;
  while (Date.now() < deadline) {
    stats = await readStats(page);
    if (stats && ok(stats)) return stats;
    await sleep(POLL_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last csStats: ${JSON.stringify(stats)}`);
}

export async function waitUntilPlaying(page) {
  const first = await waitForStats(page, 'video with a timecode', PLAYING_TIMEOUT_MS, (s) =>
    s.framesPresented > 0 && s.fps > 5 && s.width > 0 && s.height > 0 && Number.isFinite(s.latencyMs));
  return waitForStats(page, 'framesPresented to grow', GROWTH_TIMEOUT_MS, (s) =>
    s.framesPresented > first.framesPresented && s.fps > 5 && s.bitrateKbps > 0 && Number.isFinite(s.latencyMs));
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

export function round1(x) {
  return x === null ? null : Math.round(x * 10) / 10;
}

// p50/p95/p99/max/min of an ascending array, rounded to 0.1 (null when empty).
export function percentiles(sorted) {
  return {
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted.length ? sorted[sorted.length - 1] : null),
    min: round1(sorted.length ? sorted[0] : null),
  };
}

// Longest time between two consecutive presented frames (ms): what a viewer
// sees as a freeze.
export function longestFreezeMs(log) {
  let longest = 0;
  for (let i = 1; i < log.length; i++) longest = Math.max(longest, log[i].presentedMs - log[i - 1].presentedMs);
  return round1(longest);
}

// Gaps in the frame numbers the page saw (whether or not it counted them lost).
export function frameGaps(log) {
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

// after[section][key] - before[section][key]; null unless both are numbers.
export function counterDelta(before, after, key, section = 'receiver') {
  const a = before[section]?.[key], b = after[section]?.[key];
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
}

// Per-frame averages (ms) of the browser's own receive figures between two
// csStats snapshots: jitter buffer wait, decode, and first packet → decoded.
export function receiverBreakdown(before, after) {
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

// --screencast: the frames Chromium's display compositor actually drew, as
// DevTools' screencast delivers them. Each carries a wall-clock timestamp
// taken when the copy of the drawn frame reaches the browser process (after
// the draw), and the strip is read from those pixels, so swap timestamp -
// render time is glass-to-glass up to the pixels leaving the compositor: as
// far as a headless browser has glass. It leaves out only the scan-out wait
// that expectedDisplayTime predicts. Anything drawn over the strip must be
// hidden before recording (page_test.mjs hides the viewer's overlay).
const TWO_32 = 2 ** 32;
const STRIP_BLOCKS = 32;
const STRIP_ROW_DIVISOR = 24;
// Rows of each screencast PNG to decode: enough to cover the strip's first
// two rows (render time, frame number) at the half-size screencast.
const SCREENCAST_ROWS_DECODED = 64;
// A larger |swap - render| is a misread strip, not a latency.
const MAX_PLAUSIBLE_LATENCY_MS = 5000;

export function readStripRow(img, row) {
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

export async function startScreencast(page) {
  const cdp = await page.context().newCDPSession(page);
  const frames = [];
  let recording = false;
  cdp.on('Page.screencastFrame', (f) => {
    cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => {});
    if (recording && f.metadata.timestamp) frames.push({ swapMs: f.metadata.timestamp * 1000, data: f.data });
  });
  // Half size is enough to read 32 blocks and costs the browser a quarter of
  // the encoding.
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

// (a - b) modulo 2^32, as a signed 32-bit difference; mirrors diffMod32 in
// web/viewer.js.
export function diffMod32(a, b) {
  const d = (((a - b) % TWO_32) + TWO_32) % TWO_32;
  return d >= 2 ** 31 ? d - TWO_32 : d;
}

export function screencastLatencies(frames) {
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
    if (frame === lastFrame) continue; // the compositor redrew without a new video frame
    lastFrame = frame;
    const d = diffMod32(f.swapMs % TWO_32, renderMs);
    if (Math.abs(d) < MAX_PLAUSIBLE_LATENCY_MS) out.push(d);
  }
  return out;
}

export function screencastSummary(values, captured) {
  const sorted = values.slice().sort((a, b) => a - b);
  return { framesCaptured: captured, framesDecoded: sorted.length, ...percentiles(sorted) };
}

// --screenshots (any browser; Firefox has no screencast): the page is
// captured again and again (the top strip only, which is quick), each
// capture bracketed by the wall clock before it was asked for and after it
// came back. The strip in the pixels gives the render time, so each sample
// bounds the age of the frame on show at the capture from both sides: lowMs
// (asked - render) <= age <= highMs (returned - render). Age is glass-to-glass
// plus the time the frame has been on show (up to a frame interval, more when
// frames are late), so these sit above a glass-to-glass figure. The check that
// matters: the frame captured is the one requestVideoFrameCallback last
// presented before the capture was asked for (latestShownPct), presented
// presentedBeforeAskMsP50 before it; then rVFC's presentation time is when
// the page shows the frame, and latencyMs is glass-to-glass as far as the
// page can see (Firefox here: 73 % latest, presented 22 ms before the ask,
// load 10). Chromium's capture waits for a fresh draw, so its frame is
// mostly newer than the ask (3 % latest): there the screencast is the
// measure. Captures load the browser: run them after the bench window.
const SHOT_STRIP_ROWS = 2;
export async function sampleScreenshots(page, seconds) {
  const view = await page.evaluate(() => ({ w: window.innerWidth, h: window.innerHeight }));
  const rowH = Math.floor(view.h / STRIP_ROW_DIVISOR);
  const clip = { x: 0, y: 0, width: view.w, height: rowH * SHOT_STRIP_ROWS };
  const shots = [];
  const until = Date.now() + seconds * 1000;
  let captures = 0;
  await page.evaluate(() => window.csResetLog());
  while (Date.now() < until) {
    const asked = Date.now();
    const data = await page.screenshot({ clip, type: 'png' });
    const returned = Date.now();
    captures += 1;
    let img;
    try {
      img = decodePngRows(Buffer.from(data), clip.height);
    } catch {
      continue;
    }
    // The capture may be at the device pixel ratio: rows scale with it.
    const scale = img.height / clip.height;
    const strip = { ...img, height: Math.round(view.h * scale) };
    shots.push({ asked, returned, renderMs: readStripRow(strip, 0), frame: readStripRow(strip, 1) });
  }
  const log = await page.evaluate(() => window.csFrameLog.slice());
  const samples = [];
  let lastFrame = null;
  let latestShown = 0;
  const beforeAsk = [];
  for (const s of shots) {
    if (s.frame === lastFrame) continue; // the same video frame as the last capture
    lastFrame = s.frame;
    const low = diffMod32(s.asked % TWO_32, s.renderMs);
    const high = diffMod32(s.returned % TWO_32, s.renderMs);
    if (Math.abs(low) >= MAX_PLAUSIBLE_LATENCY_MS || Math.abs(high) >= MAX_PLAUSIBLE_LATENCY_MS) continue;
    samples.push({ low, high, captureMs: s.returned - s.asked });
    let latest = null;
    for (const e of log) if (e.presentedMs <= s.asked) latest = e;
    if (latest && latest.frame === s.frame) {
      latestShown += 1;
      beforeAsk.push(s.asked - latest.presentedMs);
    }
  }
  const sorted = (key) => samples.map((x) => x[key]).sort((a, b) => a - b);
  return {
    captures,
    framesDecoded: samples.length,
    lowMs: percentiles(sorted('low')),
    highMs: percentiles(sorted('high')),
    captureMsP50: round1(percentile(sorted('captureMs'), 50)),
    latestShownPct: samples.length ? round1((100 * latestShown) / samples.length) : null,
    presentedBeforeAskMsP50: round1(percentile(beforeAsk.sort((a, b) => a - b), 50)),
  };
}

// --bench: warms up, then records SECONDS of the page's per-frame log (and,
// with screencast, the drawn frames). Returns the csStats snapshots either
// side, the log, the measured time and the screencast summary (or null).
export async function recordBench(page, seconds, screencast) {
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
  return {
    before,
    after,
    log,
    elapsedS,
    screencast: cast ? screencastSummary(screencastLatencies(castFrames), castFrames.length) : null,
  };
}

// The JSON fields both tests print for a recordBench() run, in their order.
export function benchFields({ before, after, log, elapsedS, screencast }) {
  const latencies = log.map((e) => e.latencyMs).sort((a, b) => a - b);
  const gaps = frameGaps(log);
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    mode: 'bench',
    seconds: round1(elapsedS),
    width: after.width,
    height: after.height,
    frames: log.length,
    framesPerSecond: round1(log.length / elapsedS),
    framesLost: after.framesLost - before.framesLost,
    frameNumberGaps: gaps.count,
    largestFrameNumberGap: gaps.largest,
    longestFreezeMs: longestFreezeMs(log),
    reconnects: after.reconnects - before.reconnects,
    bitrateKbps: after.bitrateKbps,
    // What was received (the bench checks Firefox got VP8): the decoder's codec and the
    // server's last rendition message.
    codec: after.codec ?? null,
    rung: after.rendition?.rung ?? null,
    // Rung switches during the run (the server sends a rendition message for each).
    rungSwitches: (after.renditions?.length ?? 0) - (before.renditions?.length ?? 0),
    nacksSent: counterDelta(before, after, 'nackCount'),
    plisSent: counterDelta(before, after, 'pliCount'),
    firsSent: counterDelta(before, after, 'firCount'),
    packetsLost: counterDelta(before, after, 'packetsLost'),
    receiver: receiverBreakdown(before, after),
    toCompositorMsP50: round1(
      percentile(log.map((e) => e.toCompositorMs).sort((a, b) => a - b), 50)),
    screencast,
    latencyMs: {
      ...percentiles(latencies),
      mean: round1(latencies.length ? sum / latencies.length : null),
    },
  };
}

// A copy of obj with fields' keys placed right after key (so that printed
// JSON keeps one field order).
export function insertAfter(obj, key, fields) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v;
    if (k === key) Object.assign(out, fields);
  }
  return out;
}

// Launches headless Chromium (CHROMIUM_ARGS plus extraArgs) with a fresh
// profile and opens one 1280x720 page whose console and errors are kept
// (pageLog) for a failure report. close() ends the browser and removes the
// profile.
export async function launchChromium({ profilePrefix = 'cs-chromium-', extraArgs = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  let context = null;
  const close = async () => {
    if (context) await context.close().catch(() => {});
    context = null;
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
    });
    const page = context.pages()[0] || (await context.newPage());
    const pageLog = [];
    page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    await page.setViewportSize({ width: 1280, height: 720 });
    return { context, page, pageLog, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// The shared main(): parses process.argv with parseArgs, launches the
// browser (launchChromium, or launch: e.g. firefox.mjs's launchFirefox) and
// prints the JSON that run(page, args) returns. Returns the exit status:
// 0 on success, 1 on failure.
export async function runInBrowser({ parseArgs, run, launch }) {
  let args;
  try {
    args = parseArgs(process.argv);
  } catch (e) {
    console.error(e.message);
    return 1;
  }
  let browser = null;
  try {
    browser = await launch();
    const result = await run(browser.page, args);
    console.log(JSON.stringify(result));
    return 0;
  } catch (e) {
    console.error(`FAIL: ${e.message}`);
    if (browser?.pageLog.length) console.error(`page log:\n  ${browser.pageLog.slice(-30).join('\n  ')}`);
    return 1;
  } finally {
    if (browser) await browser.close();
  }
}

export async function runInChromium({ parseArgs, run, profilePrefix = 'cs-chromium-', extraArgs = [] }) {
  return runInBrowser({ parseArgs, run, launch: () => launchChromium({ profilePrefix, extraArgs }) });
}
