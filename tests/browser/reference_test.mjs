// The libwebrtc reference for bench/run_bench.py --loss: opens
// reference_page.html (Chromium sending a canvas stream to itself through two
// RTCPeerConnections) in Debian's headless Chromium and measures it exactly as
// page_test.mjs --bench measures our stream, with the same code (measure.mjs):
// the same Chromium flags, the same 3 s warm-up, the same per-frame record
// (rVFC), the same DevTools screencast for glass-to-glass, and the same JSON
// fields, plus a `reference` object (codec, selected candidate pair, sender
// figures).
//
//   node reference_test.mjs --bench SECONDS [--screencast] [--codec h264|vp8] [--kbps N]
//
// Run it inside a network namespace with a default route (Chromium picks its
// host address by a route lookup; without one, two peers in one page gather
// nothing) and an nftables rule that keeps every packet inside (see
// bench/run_bench.py). Prints one line of JSON; exits 0 on success, 1 on failure.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  benchFields, counterDelta, insertAfter, recordBench, round1, runInChromium, waitUntilPlaying,
} from './measure.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE = join(HERE, 'reference_page.html');
// A file:// page is its own origin; allow it to use WebRTC without prompts.
const EXTRA_CHROMIUM_ARGS = ['--allow-file-access-from-files'];

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

async function bench(page, seconds, screencast) {
  const recorded = await recordBench(page, seconds, screencast);
  const { before, after, elapsedS } = recorded;
  const bytes = counterDelta(before, after, 'bytesReceived');
  const sentFrames = counterDelta(before.reference, after.reference, 'framesEncoded', 'sender');
  // The page never reconnects.
  let result = { mode: 'bench', design: 'libwebrtc', ...benchFields(recorded), reconnects: 0 };
  result = insertAfter(result, 'bitrateKbps', {
    averageBitrateKbps: bytes === null ? null : Math.round((bytes * 8) / elapsedS / 1000),
  });
  result = insertAfter(result, 'packetsLost', {
    packetsReceived: counterDelta(before, after, 'packetsReceived'),
  });
  return {
    ...result,
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

async function run(page, args) {
  const url = pathToFileURL(PAGE);
  url.search = new URLSearchParams({ codec: args.codec, kbps: String(args.kbps) }).toString();
  await page.goto(url.href, { waitUntil: 'load', timeout: 20000 });
  await waitUntilPlaying(page);
  return bench(page, args.benchSeconds, args.screencast);
}

process.exitCode = await runInChromium({
  parseArgs, run, profilePrefix: 'cs-chromium-ref-', extraArgs: EXTRA_CHROMIUM_ARGS,
});
