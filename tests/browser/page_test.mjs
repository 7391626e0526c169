// Opens the viewer page in Debian's Chromium and checks that video plays with a
// decodable timecode strip, or (--bench SECONDS) measures latency.
//
//   node page_test.mjs URL [SCREENSHOT.png]
//   node page_test.mjs URL --bench SECONDS [--screencast] [SCREENSHOT.png]
//
// Prints one line of JSON; exits 0 on success, 1 on failure. The measuring
// code is in measure.mjs, shared with reference_test.mjs.
import { benchFields, recordBench, runInChromium, waitUntilPlaying } from './measure.mjs';

function parseArgs(argv) {
  const args = { url: null, screenshot: null, benchSeconds: null, screencast: false };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--bench') {
      args.benchSeconds = Number(rest[++i]);
      if (!(args.benchSeconds > 0)) throw new Error('--bench needs a positive number of seconds');
    } else if (rest[i] === '--screencast') {
      args.screencast = true;
    } else if (!args.url) {
      args.url = rest[i];
    } else if (!args.screenshot) {
      args.screenshot = rest[i];
    } else {
      throw new Error(`unexpected argument: ${rest[i]}`);
    }
  }
  if (!args.url) throw new Error('usage: node page_test.mjs URL [--bench SECONDS] [SCREENSHOT.png]');
  return args;
}

async function bench(page, seconds, screencast) {
  // The overlay covers the strip's right-hand blocks in the screencast.
  if (screencast) await page.addStyleTag({ content: '#overlay { display: none !important; }' });
  return benchFields(await recordBench(page, seconds, screencast));
}

function summary(stats) {
  const { state, fps, bitrateKbps, width, height, framesPresented, framesLost, latencyMs,
    latencyP50Ms, lastFrameNumber, reconnects, errors } = stats;
  return { mode: 'check', ok: true, state, fps, bitrateKbps, width, height, framesPresented,
    framesLost, latencyMs, latencyP50Ms, lastFrameNumber, reconnects, errors };
}

async function run(page, args) {
  await page.goto(args.url, { waitUntil: 'load', timeout: 20000 });
  const playing = await waitUntilPlaying(page);
  const result = args.benchSeconds ? await bench(page, args.benchSeconds, args.screencast) : summary(playing);
  if (args.screenshot) {
    await page.screenshot({ path: args.screenshot });
    result.screenshot = args.screenshot;
  }
  return result;
}

process.exitCode = await runInChromium({ parseArgs, run, profilePrefix: 'cs-chromium-' });
