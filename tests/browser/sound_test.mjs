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
// sane bitrate, and |median offset| <= --max-offset (default 150: a broken timestamp base is off by seconds;
// the figure itself is the benchmark's, bench/README.md). none
// (CS_AUDIO=0): no sound track, no button, the video plays. One JSON line.
import { launchChromium, runInBrowser, sleep, waitForStats, waitUntilPlaying } from './measure.mjs';

function parseArgs(argv) {
  const args = { url: null, expect: 'sound', seconds: 10, maxOffset: 150 };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--expect') args.expect = rest[++i];
    else if (rest[i] === '--seconds') args.seconds = Number(rest[++i]);
    else if (rest[i] === '--max-offset') args.maxOffset = Number(rest[++i]);
    else if (!args.url) args.url = rest[i];
    else throw new Error(`unexpected argument: ${rest[i]}`);
  }
  if (!args.url || !['sound', 'none'].includes(args.expect) || !(args.seconds > 0))
    throw new Error('usage: node sound_test.mjs URL --expect sound|none [--seconds N] [--max-offset MS]');
  return args;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const r1 = (x) => (x === null ? null : Math.round(x * 10) / 10);

async function run(page, args) {
  await page.goto(args.url, { waitUntil: 'load', timeout: 20000 });
  await waitUntilPlaying(page);
  if (args.expect === 'none') {
    await sleep(2000);
    const s = await waitForStats(page, 'video playing', 5000, (st) => st.fps > 20);
    if (s.audio.track) throw new Error('CS_AUDIO=0, yet a sound track arrived');
    if (await page.isVisible('#unmute')) throw new Error('the unmute button shows without sound');
    return { mode: 'sound', expect: 'none', ok: true, fps: s.fps };
  }
  await waitForStats(page, 'a sound track', 10000, (s) => s.audio.track);
  if (!(await page.isVisible('#unmute'))) throw new Error('sound track, but no unmute button');
  await page.click('#unmute');
  await waitForStats(page, 'sound on', 3000, (s) => s.audio.on);
  await waitForStats(page, 'control channel', 10000, (s) => s.control && s.control.steer);
  await page.evaluate(() => window.csSendControl({ type: 'speed', value: 8, t: Date.now() }));
  await sleep(1500); // the detector and the faster spin settle
  const before = await page.evaluate(() => JSON.parse(JSON.stringify(window.csStats.audio)));
  await sleep(args.seconds * 1000);
  const after = await page.evaluate(() => JSON.parse(JSON.stringify(window.csStats)));
  await page.screenshot({ path: process.env.CS_SCREENSHOT || '/tmp/cube-streamer-sound.png' });
  const a = after.audio;
  const offsets = a.avOffsets.slice(before.avOffsets.length);
  const turns = a.turns - before.turns;
  const clicks = a.clicks - before.clicks;
  const result = {
    mode: 'sound', expect: 'sound', ok: true, seconds: args.seconds,
    turns, clicks, paired: offsets.length,
    avOffsetMedianMs: r1(median(offsets)),
    avOffsetsMs: offsets.map(r1),
    audioKbps: a.bitrateKbps, audioJitterBufferMs: r1(a.jitterBufferMs ?? null), outputLatencyMs: r1(a.outputLatencyMs ?? null), baseLatencyMs: r1(a.baseLatencyMs ?? null), fps: after.fps, latencyP50Ms: after.latencyP50Ms,
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

process.exitCode = await runInBrowser({ parseArgs, run, launch: () => launchChromium({ profilePrefix: 'cs-sound-' }) });
