// The viewer page in Chromium against a server with CS_AUTH_TOKEN and/or TLS
// (run_access_test.sh starts them).
//
//   node access_test.mjs URL refused          the page answers 401 and says "not authorised"
//   node access_test.mjs URL playing          video plays (frames with a timecode)
//   node access_test.mjs URL revoked MARKER   plays, writes MARKER, then (once the server
//                                             has restarted with another token) shows
//                                             "not authorised" and stops reconnecting
//   --spki HASH                               trust exactly the key with this SPKI hash
//
// Prints one line of JSON; exits 0 on success, 1 on failure.
import { writeFileSync } from 'node:fs';

import { readStats, runInChromium, sleep, waitForStats, waitUntilPlaying } from './measure.mjs';

function parseArgs(argv) {
  const args = { url: null, mode: null, marker: null, spki: null };
  const rest = argv.slice(2);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--spki') args.spki = rest[++i];
    else if (!args.url) args.url = rest[i];
    else if (!args.mode) args.mode = rest[i];
    else if (!args.marker) args.marker = rest[i];
    else throw new Error(`unexpected argument: ${rest[i]}`);
  }
  if (!args.url || !['refused', 'playing', 'revoked'].includes(args.mode) ||
      (args.mode === 'revoked' && !args.marker))
    throw new Error('usage: node access_test.mjs URL refused|playing|revoked MARKER [--spki HASH]');
  return args;
}

async function overlayText(page) {
  return page.evaluate(() => document.getElementById('overlay-text')?.textContent ?? null);
}

async function run(page, args) {
  const response = await page.goto(args.url, { waitUntil: 'load', timeout: 20000 });
  const status = response ? response.status() : null;
  if (args.mode === 'refused') {
    const text = await page.evaluate(() => document.body.innerText);
    if (status !== 401) throw new Error(`expected HTTP 401 for the page, got ${status}`);
    if (!/not authorised/.test(text)) throw new Error(`page does not say "not authorised": ${text}`);
    return { mode: 'refused', ok: true, status, text: text.trim() };
  }
  if (status !== 200) throw new Error(`expected HTTP 200 for the page, got ${status}`);
  const playing = await waitUntilPlaying(page);
  const summary = { ok: true, status, framesPresented: playing.framesPresented, fps: playing.fps,
    width: playing.width, height: playing.height, latencyMs: playing.latencyMs };
  if (args.mode === 'playing') return { mode: 'playing', ...summary };
  writeFileSync(args.marker, 'playing\n');
  const refused = await waitForStats(page, 'state "not authorised"', 40000,
    (s) => s.state === 'not authorised');
  await sleep(4000);  // longer than the reconnect backoff's first steps
  const later = await readStats(page);
  const text = await overlayText(page);
  if (later.state !== 'not authorised' || later.reconnects !== refused.reconnects)
    throw new Error(`kept reconnecting after the refusal: ${JSON.stringify(later)}`);
  if (!/not authorised/.test(text)) throw new Error(`overlay does not say "not authorised": ${text}`);
  return { mode: 'revoked', ...summary, reconnects: later.reconnects, overlay: text.split('\n')[0] };
}

const spkiIndex = process.argv.indexOf('--spki');
const extraArgs = spkiIndex > 0 ? [`--ignore-certificate-errors-spki-list=${process.argv[spkiIndex + 1]}`] : [];
process.exitCode = await runInChromium({ parseArgs, run, profilePrefix: 'cs-chromium-access-', extraArgs });
