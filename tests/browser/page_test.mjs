// Opens the viewer page in Debian's Chromium (or Firefox ESR) and checks that
// video plays with a decodable timecode strip, or (--bench SECONDS) measures
// latency.
//
//   node page_test.mjs URL [--browser chromium|firefox] [SCREENSHOT.png]
//   node page_test.mjs URL --bench SECONDS [--screencast] [--screenshots] [SCREENSHOT.png]
//
// --screencast (Chromium only): glass-to-glass from the frames its compositor
// drew (`screencast`). --screenshots (either browser; what Firefox has): after
// the bench window, as long again of strip captures, each bracketing the
// latency from below and above (`screenshots`). Either way `latencyMs` is
// render -> requestVideoFrameCallback's expectedDisplayTime, and
// `toCompositorMsP50` render -> its presentationTime.
// Firefox needs a namespace with a default route behind a guard rule
// (firefox.mjs). Prints one line of JSON; exits 0 on success, 1 on failure.
// The measuring code is in measure.mjs, shared with reference_test.mjs.
import {
  benchFields, launchChromium, recordBench, runInBrowser, sampleScreenshots, waitUntilPlaying,
} from './measure.mjs';
import { launchFirefox } from './firefox.mjs';

function parseArgs(argv) {
  const args = { url: null, screenshot: null, benchSeconds: null, screencast: false, screenshots: false,
    browser: 'chromium' };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--bench') {
      args.benchSeconds = Number(rest[++i]);
      if (!(args.benchSeconds > 0)) throw new Error('--bench needs a positive number of seconds');
    } else if (rest[i] === '--screencast') {
      args.screencast = true;
    } else if (rest[i] === '--screenshots') {
      args.screenshots = true;
    } else if (rest[i] === '--browser') {
      args.browser = rest[++i];
      if (args.browser !== 'chromium' && args.browser !== 'firefox') throw new Error('--browser chromium or firefox');
    } else if (!args.url) {
      args.url = rest[i];
    } else if (!args.screenshot) {
      args.screenshot = rest[i];
    } else {
      throw new Error(`unexpected argument: ${rest[i]}`);
    }
  }
  if (!args.url) throw new Error('usage: node page_test.mjs URL [--browser B] [--bench SECONDS] [SCREENSHOT.png]');
  if (args.screencast && args.browser !== 'chromium') throw new Error('--screencast needs Chromium (DevTools)');
  return args;
}

async function bench(page, args) {
  // The overlay covers the strip's right-hand blocks in the captured pixels.
  if (args.screencast || args.screenshots) {
    await page.addStyleTag({ content: '#overlay { display: none !important; }' });
  }
  const result = { browser: args.browser, ...benchFields(await recordBench(page, args.benchSeconds, args.screencast)) };
  if (args.screenshots) result.screenshots = await sampleScreenshots(page, args.benchSeconds);
  return result;
}

function summary(stats) {
  const { state, fps, bitrateKbps, width, height, framesPresented, framesLost, latencyMs,
    latencyP50Ms, lastFrameNumber, reconnects, errors, codec, rendition } = stats;
  return { mode: 'check', ok: true, state, fps, bitrateKbps, width, height, framesPresented,
    framesLost, latencyMs, latencyP50Ms, lastFrameNumber, reconnects, errors, codec, rendition };
}

async function run(page, args) {
  await page.goto(args.url, { waitUntil: 'load', timeout: 20000 });
  const playing = await waitUntilPlaying(page);
  const result = args.benchSeconds ? await bench(page, args) : summary(playing);
  if (args.screenshot) {
    await page.screenshot({ path: args.screenshot });
    result.screenshot = args.screenshot;
  }
  return result;
}

// The browser is known only once the arguments are.
let launch = () => launchChromium({ profilePrefix: 'cs-chromium-' });
process.exitCode = await runInBrowser({
  parseArgs: (argv) => {
    const args = parseArgs(argv);
    if (args.browser === 'firefox') launch = () => launchFirefox({ profilePrefix: 'cs-firefox-' });
    return args;
  },
  run,
  launch: () => launch(),
});
