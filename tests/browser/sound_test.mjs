// The scene's sound (CS_AUDIO=1) on the server's own page in Chromium: the
// page shows its unmute button once a sound track arrives; a real click on
// it (the user gesture browsers ask for) turns the sound on and starts the
// page's click detector. The cube is sped up (8x: a full turn every 0.87 s)
// over the control channel, and for SECONDS the page pairs each click it
// hears with the frame whose timecode row 3 counted that turn: the A/V
// offset (click presented - frame presented).
//
//   node sound_test.mjs URL --expect sound|none [--seconds N] [--max-offset MS]
//
// sound: every turn in the window has its click and every click its turn
// (at most one of each unpaired, at the window's ends), Opus arrives at a
// sane bitrate, and |median offset| <= --max-offset (default 300: a broken timestamp base is off by seconds; the receiver alone, loaded, added 85 ms;
// the figure itself is the benchmark's, bench/README.md). none
// (CS_AUDIO=0): no sound track, no button, the video plays. One JSON line.
import { launchChromium, runInBrowser, sleep, waitForStats, waitUntilPlaying } from './measure.mjs';
import { FIREFOX_PREFS, launchFirefox } from './firefox.mjs';

function parseArgs(argv) {
  const args = { url: null, expect: 'sound', seconds: 10, maxOffset: 300, browser: 'chromium' };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--expect') args.expect = rest[++i];
    else if (rest[i] === '--seconds') args.seconds = Number(rest[++i]);
    else if (rest[i] === '--max-offset') args.maxOffset = Number(rest[++i]);
    else if (rest[i] === '--browser') args.browser = rest[++i];
    else if (!args.url) args.url = rest[i];
    else throw new Error(`unexpected argument: ${rest[i]}`);
  }
  if (!args.url || !['sound', 'none'].includes(args.expect) || !(args.seconds > 0) ||
      !['chromium', 'firefox'].includes(args.browser))
    throw new Error('usage: node sound_test.mjs URL --expect sound|none [--seconds N] [--max-offset MS] [--browser chromium|firefox]');
  return args;
}

// Where the test is, on stderr with the time: a browser that stops
// answering (once seen with Firefox: a ctest time-out with nothing said)
// is then named by the watchdog, which ends the test with the step it
// was stuck in, well inside ctest's limit.
let step = 'start';
const started = Date.now();
function at(name) {
  step = name;
  console.error(`sound_test: ${((Date.now() - started) / 1000).toFixed(1)} s: ${name}`);
}
const WATCHDOG_S = 150;
setTimeout(() => {
  console.error(`FAIL: no result after ${WATCHDOG_S} s; stuck at: ${step}`);
  process.exit(1);
}, WATCHDOG_S * 1000).unref();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const r1 = (x) => (x === null ? null : Math.round(x * 10) / 10);

// Opens URL?sound=1 (the page asks for sound). A known defect (README
// "Sound"): with a sound track received, Chromium sometimes decodes the
// video but never presents a frame; such a browser is closed and a fresh
// one tried, at most 3 in all, and the count is reported.
const KNOWN_DEFECT_TRIES = 3;
// The page's click detector runs on the audio thread (an AudioWorklet) only
// in a secure context; the test's origin (http, a namespace address) is
// made one, as https or localhost would be. CS_SOUND_INSECURE=1 leaves it
// insecure: the main-thread fallback.
const insecure = () => process.env.CS_SOUND_INSECURE === '1';
const secureOriginArgs = (url) => (insecure() ? [] : [`--unsafely-treat-insecure-origin-as-secure=${url.origin}`]);
// Firefox (Debian's ESR over WebDriver BiDi, firefox.mjs): the same page,
// its http origin made a secure context by Firefox's own allow-list.
const launchers = {
  chromium: (url) => launchChromium({ profilePrefix: 'cs-sound-', extraArgs: secureOriginArgs(url) }),
  firefox: (url) =>
    launchFirefox({
      profilePrefix: 'cs-sound-firefox-',
      prefs: { ...FIREFOX_PREFS, ...(insecure() ? {} : { 'dom.securecontext.allowlist': url.hostname }) },
    }),
};
const unmuteShown = (page) => page.evaluate(() => !document.getElementById('unmute').hidden);
async function openWithSound(args) {
  const url = new URL(args.url);
  url.searchParams.set('sound', '1');
  let unshown = 0;
  for (;;) {
    at(`launch ${args.browser}`);
    const browser = await launchers[args.browser](url);
    try {
      at('open the page');
      await browser.page.goto(url.href, { waitUntil: 'load', timeout: 20000 });
      await waitForStats(browser.page, 'a presented frame', 8000, (s) => s.framesPresented > 0);
      await waitUntilPlaying(browser.page);
      return { browser, unshown };
    } catch (e) {
      const s = await browser.page.evaluate(() => window.csStats).catch(() => null);
      at('close the browser');
      await browser.close();
      const decodedOnly = s && s.framesPresented === 0 && (s.receiver?.framesDecoded ?? 0) > 0;
      if (!decodedOnly || ++unshown >= KNOWN_DEFECT_TRIES) throw e;
      console.error(`video decoded (${s.receiver.framesDecoded} frames) but never shown: a fresh browser (${unshown})`);
    }
  }
}

async function run(_unused, args) {
  const { browser, unshown } = await openWithSound(args);
  try {
    return { ...(await measure(browser.page, args)), unshownBrowsers: unshown };
  } finally {
    at('close the browser');
    await browser.close();
    at('closed');
  }
}

// The receiver's audio jitter buffer starts deep (CI saw 280 ms) and
// shrinks over the first seconds, moving each click against its frame: the
// window opens once SETTLED_PAIRS offsets in a row agree within SETTLED_MS
// (at most SETTLE_MAX_S; the result says how long it took).
const SETTLED_PAIRS = 3;
const SETTLED_MS = 40;
const SETTLE_MAX_S = 15;
async function settle(page) {
  const start = Date.now();
  await sleep(1500); // the detector and the faster spin start
  while (Date.now() - start < SETTLE_MAX_S * 1000) {
    const last = await page.evaluate((n) => window.csStats.audio.avOffsets.slice(-n), SETTLED_PAIRS);
    if (last.length === SETTLED_PAIRS && Math.max(...last) - Math.min(...last) <= SETTLED_MS) break;
    await sleep(250);
  }
  return r1((Date.now() - start) / 1000);
}

async function measure(page, args) {
  if (args.expect === 'none') {
    await sleep(2000);
    const s = await waitForStats(page, 'video playing', 5000, (st) => st.fps > 20);
    if (s.audio.track) throw new Error('CS_AUDIO=0, yet a sound track arrived');
    if (await unmuteShown(page)) throw new Error('the unmute button shows without sound');
    return { mode: 'sound', expect: 'none', ok: true, fps: s.fps };
  }
  at('wait for the sound track');
  await waitForStats(page, 'a sound track', 10000, (s) => s.audio.track);
  if (!(await unmuteShown(page))) throw new Error('sound track, but no unmute button');
  at('click unmute');
  await page.click('#unmute');
  await waitForStats(page, 'sound on', 3000, (s) => s.audio.on);
  await waitForStats(page, 'control channel', 10000, (s) => s.control && s.control.steer);
  await page.evaluate(() => window.csSendControl({ type: 'speed', value: 8, t: Date.now() }));
  at('settle');
  const settledAfterS = await settle(page);
  at('measure');
  const before = await page.evaluate(() => JSON.parse(JSON.stringify(window.csStats.audio)));
  await sleep(args.seconds * 1000);
  const after = await page.evaluate(() => JSON.parse(JSON.stringify(window.csStats)));
  at('screenshot');
  await page.screenshot({ path: process.env.CS_SCREENSHOT || '/tmp/cube-streamer-sound.png' });
  const a = after.audio;
  const offsets = a.avOffsets.slice(before.avOffsets.length);
  const turns = a.turns - before.turns;
  const clicks = a.clicks - before.clicks;
  const result = {
    mode: 'sound', expect: 'sound', ok: true, browser: args.browser, seconds: args.seconds,
    turns, clicks, paired: offsets.length,
    avOffsetMedianMs: r1(median(offsets)),
    avOffsetsMs: offsets.map(r1),
    settledAfterS,
    audioKbps: a.bitrateKbps, concealedSamples: a.concealedSamples ?? null, stretchedSamples: a.stretchedSamples ?? null, audioJitterBufferMs: r1(a.jitterBufferMs ?? null), outputLatencyMs: r1(a.outputLatencyMs ?? null), baseLatencyMs: r1(a.baseLatencyMs ?? null), videoHoldMs: a.videoHoldMs ?? null, fps: after.fps, latencyP50Ms: after.latencyP50Ms,
  };
  // 8x: a turn every 0.87 s, so >= 8 in 10 s.
  if (turns < Math.floor(args.seconds * 0.8)) throw new Error(`only ${turns} full turns in ${args.seconds} s at 8x: ${JSON.stringify(result)}`);
  if (offsets.length < turns - 1 || clicks > turns + 1 || clicks < turns - 1)
    throw new Error(`clicks and turns do not pair up: ${JSON.stringify(result)}`);
  if (Math.abs(result.avOffsetMedianMs) > args.maxOffset)
    throw new Error(`A/V offset ${result.avOffsetMedianMs} ms beyond ${args.maxOffset}: ${JSON.stringify(result)}`);
  if (!(a.bitrateKbps >= 16 && a.bitrateKbps <= 80)) throw new Error(`Opus at ${a.bitrateKbps} kbps: ${JSON.stringify(result)}`);
  if (after.fps < 20) throw new Error(`video at ${after.fps} fps with sound`);
  return result;
}

// run() launches its own browsers; runInBrowser's is a placeholder page.
process.exitCode = await runInBrowser({
  parseArgs, run,
  launch: async () => ({ page: null, pageLog: [], close: async () => {} }),
});
