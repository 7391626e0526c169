// Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver
// BiDi, with a fresh profile in /tmp and every preference it takes to stay
// offline. The page object is puppeteer's; what measure.mjs does with a page
// (evaluate, readStats, waitUntilPlaying) works on it as on Playwright's.
//
// Firefox gathers no ICE candidate at all in a namespace without a default
// route (its iceGatheringState stays "new"): run it where the namespace has
// one, behind the guard rule (tests/e2e/netns.sh cs_guard_route;
// bench/run_bench.py Namespace.add_default_route). It then offers only the
// default route's address, as a host candidate.
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX = process.env.CS_FIREFOX || '/usr/bin/firefox-esr';

// On top of puppeteer's own automation profile (no updates, no safe
// browsing, no health report, no Normandy...).
export const FIREFOX_PREFS = {
  // The page starts video without a click.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // No plugin downloads (OpenH264, Widevine): the offer is Firefox's own
  // codecs, VP8/VP9/AV1, as on an offline or locked-down install. A machine
  // whose Firefox somehow has OpenH264 still offers none here.
  'media.gmp-manager.url': '',
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.eme.enabled': false,
  // Host candidates as addresses, not mDNS names: no multicast announcements,
  // and the server needs no peer-reflexive detour.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Remote settings: the release build ignores puppeteer's dummy server and
  // asks firefox.settings.services.mozilla.com unless overrides are allowed
  // (MOZ_DISABLE_NONLOCAL_CONNECTIONS below); this URL makes it skip all
  // remote activity (services-settings Utils.shouldSkipRemoteActivity).
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'app.update.auto': false,
  'app.update.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'browser.ping-centre.telemetry': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.trr.mode': 5,
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'geo.provider.network.url': '',
  'extensions.blocklist.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': '',
  'browser.topsites.contile.enabled': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google.updateURL': '',
};

// Firefox's own test-harness switch: a connection to a non-local address
// (anything but loopback and the private ranges the tests use) crashes the
// browser instead of leaving, so a preference missed above fails the test
// rather than sending anything. It also lets services.settings.server apply.
export const FIREFOX_ENV = { MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' };

const CLOSE_TIMEOUT_MS = 10000;

// Launches Firefox with a fresh profile and opens one 1280x720 page whose
// console and errors are kept (pageLog) for a failure report. close() ends
// the browser and removes the profile.
// `prefs` replaces FIREFOX_PREFS (extend them, do not drop them).
export async function launchFirefox({ profilePrefix = 'cs-firefox-', prefs = FIREFOX_PREFS } = {}) {
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  let browser = null;
  // puppeteer's close() has been seen not to return with Firefox: after
  // CLOSE_TIMEOUT_MS the browser process is killed, so that a test ends.
  const close = async () => {
    if (browser) {
      const proc = browser.process();
      let timer;
      const closed = await Promise.race([
        browser.close().then(() => true, () => true),
        new Promise((resolve) => { timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
      if (!closed && proc && proc.exitCode === null) {
        console.error(`firefox: close() did not return within ${CLOSE_TIMEOUT_MS} ms; killing it`);
        proc.kill('SIGKILL');
      }
    }
    browser = null;
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: prefs,
      env: { ...process.env, ...FIREFOX_ENV },
      defaultViewport: { width: 1280, height: 720 },
    });
    const pages = await browser.pages();
    const page = pages[0] || (await browser.newPage());
    const pageLog = [];
    page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    await page.setViewport({ width: 1280, height: 720 });
    return { browser, page, pageLog, close };
  } catch (e) {
    await close();
    throw e;
  }
}
