// The control channel from the server's own page in Chromium: the page opens
// its data channel, the server says whether it may steer, and a real mouse
// drag on the video turns the cube: the strip's row 2 then carries the
// drag's stamp (input -> photon, measured by the page).
//
//   node control_test.mjs URL --expect steer|refused|first [--drags N]
//
// steer (CS_CONTROL=all): every mouse drag, then two finger drags (touch),
// show in the picture (row 2), each rendered within 3 frames of the input,
// and input -> photon is reported; then bad messages and a flood each get an
// error on the channel while the video plays on. refused (CS_CONTROL=none):
// the server answers the drag with an error naming CS_CONTROL and row 2
// stays 0. first (CS_CONTROL=first): a second page is refused while the
// first steers, and steers once the first has left. Prints one line of JSON.
import { launchChromium, runInBrowser, waitForStats, waitUntilPlaying } from './measure.mjs';

function parseArgs(argv) {
  const args = { url: null, expect: 'steer', drags: 5 };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--expect') args.expect = rest[++i];
    else if (rest[i] === '--drags') args.drags = Number(rest[++i]);
    else if (!args.url) args.url = rest[i];
    else throw new Error(`unexpected argument: ${rest[i]}`);
  }
  if (!args.url || !['steer', 'refused', 'first'].includes(args.expect) || !(args.drags > 0))
    throw new Error('usage: node control_test.mjs URL --expect steer|refused|first [--drags N]');
  return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function drag(page, dx) {
  await page.mouse.move(640, 360);
  await page.mouse.down();
  for (let i = 1; i <= 5; i++) {
    await page.mouse.move(640 + (dx * i) / 5, 360, { steps: 1 });
    await sleep(20);
  }
  await page.mouse.up();
}

// A finger on a touch screen: Chromium's own touch input (DevTools
// protocol), which the page receives as pointer events of type "touch".
async function fingerDrag(page, dx) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
    const at = (x) => [{ x, y: 360, id: 1 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(640) });
    for (let i = 1; i <= 5; i++) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(640 + (dx * i) / 5) });
      await sleep(20);
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach().catch(() => {});
  }
}

async function open(page, url) {
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await waitUntilPlaying(page);
  return waitForStats(page, 'the control channel and the server\'s control state', 10000,
    (s) => s.control !== null);
}

// Drags until each shows in row 2 (steering) or half a second passes.
async function drags(page, count, steering, how = drag) {
  for (let i = 0; i < count; i++) {
    const before = await page.evaluate(() => window.csStats.inputLatencies.length);
    await how(page, i % 2 ? -60 : 60);
    if (steering) {
      await waitForStats(page, `${how === drag ? 'mouse' : 'finger'} drag ${i + 1} in the picture (row 2)`, 3000,
        (s) => s.inputLatencies.length > before);
    } else {
      await sleep(500);
    }
  }
}

const controlErrors = (stats) => stats.errors.filter((e) => e.startsWith('control:'));

// Unknown and malformed messages, then a flood: one error each (the flood
// one a second), and the video goes on.
async function hostile(page) {
  await page.evaluate(() => {
    window.csSendControl({ type: 'explode' });
    window.csSendControl({ type: 'rotate', yaw: 'left' });
    for (let i = 0; i < 2000; i++) window.csSendControl({ type: 'keyframe' });
  });
  const stats = await waitForStats(page, 'errors for bad messages and the flood', 5000, (s) => {
    const errors = controlErrors(s);
    return errors.some((e) => /unknown control message type "explode"/.test(e)) &&
      errors.some((e) => /"yaw" must be a number/.test(e)) &&
      errors.some((e) => /too many control messages/.test(e));
  });
  await sleep(2000);
  const after = await waitForStats(page, 'video still playing after the flood', 5000,
    (s) => s.framesPresented > stats.framesPresented + 30 && s.fps > 20);
  return { errors: controlErrors(after), fpsAfter: after.fps };
}

function latencies(stats) {
  const sorted = [...stats.inputLatencies].sort((a, b) => a - b);
  return {
    inputToPhotonMs: stats.inputLatencies.map((x) => Math.round(x * 10) / 10),
    inputToPhotonP50Ms: sorted.length ? Math.round(sorted[Math.floor((sorted.length - 1) / 2)] * 10) / 10 : null,
    inputToFrameMaxMs: stats.inputToFrameMs.length ? Math.max(...stats.inputToFrameMs) : null,
  };
}

// "A rotation changes the picture within 3 frames": from each input to the
// render of the first frame that carries it (the frame's timecode, same
// clock), at most 3 frame intervals of the 30 fps stream.
const FRAME_INTERVAL_MS = 1000 / 30;
function checkWithinThreeFrames(stats) {
  const late = stats.inputToFrameMs.filter((ms) => ms > 3 * FRAME_INTERVAL_MS);
  if (!stats.inputToFrameMs.length || late.length)
    throw new Error(`inputs applied later than 3 frames: ${JSON.stringify(stats.inputToFrameMs)}`);
}

async function run(page, args) {
  const opened = await open(page, args.url);
  const result = { mode: 'control', ok: true, expect: args.expect, control: opened.control, drags: args.drags };
  if (args.expect === 'refused') {
    if (opened.control.steer) throw new Error('CS_CONTROL=none, yet the server says this viewer may steer');
    await drags(page, args.drags, false);
    const stats = await waitForStats(page, 'the result', 3000, () => true);
    if (!controlErrors(stats).some((e) => /view-only \(CS_CONTROL=none\)/.test(e)))
      throw new Error(`no error naming CS_CONTROL=none: ${JSON.stringify(stats.errors)}`);
    if (stats.inputStamp !== 0) throw new Error(`row 2 shows an input (${stats.inputStamp}) though none was allowed`);
    return { ...result, controlErrors: controlErrors(stats) };
  }
  if (!opened.control.steer) throw new Error(`the first viewer may not steer: ${JSON.stringify(opened.control)}`);
  await drags(page, args.drags, true);
  const stats = await waitForStats(page, 'the result', 3000, () => true);
  if (controlErrors(stats).length) throw new Error(`control errors: ${JSON.stringify(controlErrors(stats))}`);
  checkWithinThreeFrames(stats);
  Object.assign(result, latencies(stats), { latencyP50Ms: stats.latencyP50Ms, fps: stats.fps });
  if (args.expect === 'steer') {
    await drags(page, 2, true, fingerDrag);
    result.fingerDrags = 2;
    result.hostile = await hostile(page);
    return result;
  }
  // first: a second viewer watches the first one's cube and may not steer,
  // until the first leaves.
  const second = await page.context().newPage();
  await second.setViewportSize({ width: 1280, height: 720 });
  const secondOpened = await open(second, args.url);
  if (secondOpened.control.steer) throw new Error('CS_CONTROL=first, yet the second viewer may steer too');
  await second.bringToFront();
  await drags(second, 1, false);
  const refused = await waitForStats(second, 'the second viewer refused', 3000,
    (s) => controlErrors(s).some((e) => /another viewer is steering \(CS_CONTROL=first\)/.test(e)));
  if (refused.inputStamp !== stats.inputStamp && refused.inputStamp !== 0) {
    // It sees the first viewer's inputs (the same cube), never one of its own.
    if (refused.inputLatencies.length) throw new Error('the refused viewer\'s input showed in the picture');
  }
  await page.close();
  await waitForStats(second, 'control handed to the second viewer', 5000, (s) => s.control && s.control.steer);
  await drags(second, 2, true);
  return { ...result, secondRefused: controlErrors(refused), secondTookOver: true };
}

process.exitCode = await runInBrowser({ parseArgs, run, launch: () => launchChromium({ profilePrefix: 'cs-control-' }) });
