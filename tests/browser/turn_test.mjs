// The viewer page in Chromium behind NAT, where media can only flow through
// the TURN relay (run_turn_test.sh builds the namespaces and starts coturn).
//
//   node turn_test.mjs URL relay     with ?relay=1 the page plays, and getStats'
//                                    selected candidate pair is a relay pair
//   node turn_test.mjs URL refused   the relay refuses the credentials: the page
//                                    says so (icecandidateerror 401) within 10 s,
//                                    and shows the server's error about its own
//
// Prints one line of JSON; exits 0 on success, 1 on failure.
import { readStats, runInChromium, waitForStats, waitUntilPlaying } from './measure.mjs';

function parseArgs(argv) {
  const [url, mode] = argv.slice(2);
  if (!url || !['relay', 'refused'].includes(mode))
    throw new Error('usage: node turn_test.mjs URL relay|refused');
  return { url, mode };
}

// The selected pair's two candidates, from the page's own RTCPeerConnection.
async function selectedPair(page) {
  return page.evaluate(async () => {
    const pc = window.csPeerConnection;
    if (!pc) return null;
    const report = await pc.getStats();
    let pairId = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? report.get(pairId) : null;
    if (!pair) return null;
    const local = report.get(pair.localCandidateId);
    const remote = report.get(pair.remoteCandidateId);
    return {
      state: pair.state,
      local: local && { type: local.candidateType, address: local.address, port: local.port,
        relayProtocol: local.relayProtocol, url: local.url },
      remote: remote && { type: remote.candidateType, address: remote.address, port: remote.port },
    };
  });
}

async function run(page, args) {
  const started = Date.now();
  await page.goto(args.url, { waitUntil: 'load', timeout: 20000 });
  if (args.mode === 'refused') {
    const s = await waitForStats(page, 'an ICE server error', 10000,
      (st) => st.errors.some((e) => /ICE server turn:.*401/.test(e)));
    const afterMs = Date.now() - started;
    // The server's own allocation is refused too; it tells the viewer.
    const told = await waitForStats(page, "the server's TURN error", 15000,
      (st) => st.errors.some((e) => /server: the server's TURN relay .* gave it no relay/.test(e)));
    return { mode: 'refused', ok: true, afterMs, error: s.errors.find((e) => /401/.test(e)),
      serverError: told.errors.find((e) => /server: the server's TURN/.test(e)) };
  }
  const playing = await waitUntilPlaying(page);
  const pair = await selectedPair(page);
  if (!pair || !pair.local || pair.local.type !== 'relay')
    throw new Error(`the selected pair is not a relay pair: ${JSON.stringify(pair)}`);
  const stats = await readStats(page);
  return { mode: 'relay', ok: true, framesPresented: playing.framesPresented, fps: playing.fps,
    width: playing.width, height: playing.height, pair, errors: stats.errors };
}

process.exitCode = await runInChromium({ parseArgs, run, profilePrefix: 'cs-chromium-turn-' });
