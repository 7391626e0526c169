'use strict';

// cube-streamer viewer: receives one video track over WebRTC (H.264, or VP8
// where the browser has no H.264: Firefox without OpenH264), measures
// glass-to-glass latency from the timecode strip (see SPEC.md) and reconnects
// by itself. window.csStats / window.csFrameLog are read by tests.
(() => {
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const STATS_INTERVAL_MS = 1000;
  const P50_WINDOW_MS = 2000;
  const FRAME_LOG_CAP = 20000;
  const ERRORS_CAP = 50;
  const RENDITIONS_CAP = 100;
  const TWO_32 = 2 ** 32;
  const STRIP_BLOCKS = 32;
  const STRIP_ROW_DIVISOR = 24;
  // A decoded latency beyond this is not a timecode (e.g. CS_TIMECODE=0).
  const MAX_PLAUSIBLE_LATENCY_MS = 60000;
  // A frame-number jump beyond this is a server restart, not loss.
  const MAX_PLAUSIBLE_GAP = 1000;
  // Overlay graph: the last GRAPH_WINDOW_MS of presented frames, kept in a
  // fixed ring (GRAPH_CAPACITY covers the window up to 200 fps; at a higher
  // rate it just spans less time) and redrawn every GRAPH_REDRAW_MS.
  const GRAPH_WINDOW_MS = 10000;
  const GRAPH_CAPACITY = 2048;
  const GRAPH_REDRAW_MS = 250;
  const GRAPH_MIN_SCALE_MS = 50;
  // The latency line is broken across a stretch this long without a frame.
  const GRAPH_LINE_BREAK_MS = 250;
  // A wait for the next frame longer than this is drawn as it grows.
  const GRAPH_OPEN_GAP_MS = 150;
  const GRAPH_HEADER_CSS_PX = 13;
  const GRAPH_LATENCY_COLOR = '#5fd0f5';
  const GRAPH_GAP_COLOR = '#f2b44a';
  // Control channel: degrees of turn per pixel dragged, spin speed steps
  // and bounds (the server's), inputs remembered for input → photon.
  const DRAG_DEGREES_PER_PX = 0.4;
  const SPEED_STEP = 1.5;
  const SPEED_MAX = 8;
  const PENDING_INPUTS_CAP = 64;
  const INPUT_LATENCIES_CAP = 1000;
  // Sound (CS_AUDIO): the server clicks on each full turn of the cube, the
  // frame of that turn counts it in row 3. A sample above CLICK_LEVEL is a
  // click's (the tone peaks at 0.08, the click at 0.7); clicks and turn
  // frames this close belong together (under half the 0.87 s between turns
  // at the top speed, so a click cannot take its neighbour's frame); the
  // offset is click - frame. After a click, the receiver's loss concealment
  // may replay its waveform a few ms later: that is not a second click
  // (hence the refractory time, well under the 0.87 s).
  const CLICK_LEVEL = 0.35;
  const CLICK_REFRACTORY_MS = 300;
  const AV_MATCH_MS = 400;
  const AV_OFFSETS_CAP = 1000;
  const CLICK_BLOCK = 256;

  const video = document.getElementById('video');
  const overlayText = document.getElementById('overlay-text');
  const graph = document.getElementById('overlay-graph');
  const unmuteButton = document.getElementById('unmute');
  const sound = document.getElementById('sound');
  // CS_AUTH_TOKEN: the page was opened as /?token=...; every request it makes
  // carries the same token.
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const tokenQuery = token ? `?token=${encodeURIComponent(token)}` : '';
  // ?rung=N pins this viewer to rung N of the server's quality ladder (0 =
  // top), for trying a rung by eye; without it the server adapts the rung to
  // the link.
  const pinnedRung = /^[0-9]{1,3}$/.test(params.get('rung') || '') ? Number(params.get('rung')) : null;
  // ?transport=whep signals over WHEP (POST /whep, PATCH, DELETE) instead of
  // the WebSocket: the same viewer on the server, for comparing the two.
  const useWhep = params.get('transport') === 'whep';
  // ?sound=1 asks for the server's sound (CS_AUDIO=1); an unmute button then
  // turns it on.
  const wantSound = params.get('sound') === '1';
  // ?sync=1: lip sync. The server leaves out its zero playout-delay
  // extension and the page its zero jitter-buffer target for the video, so
  // the browser holds each frame back to meet its sound: later pictures
  // (by the sound's jitter buffer and output) in step with the sound.
  const wantLipSync = params.get('sync') === '1';
  // ?janus=http://HOST:8088/janus watches the server's stream through a Janus
  // fan-out node (CS_FORWARD_RTP, scripts/janus.sh) over the Janus HTTP API,
  // mountpoint ?mountpoint=N (default 1): Janus offers, the page answers.
  const janusUrl = /^https?:\/\//.test(params.get('janus') || '') ? params.get('janus').replace(/\/+$/, '') : null;
  const janusMountpoint = /^[0-9]{1,9}$/.test(params.get('mountpoint') || '') ? Number(params.get('mountpoint')) : 1;

  const stats = {
    state: 'new',
    fps: 0,
    bitrateKbps: 0,
    width: 0,
    height: 0,
    framesPresented: 0,
    framesLost: 0,
    latencyMs: null,
    latencyP50Ms: null,
    toCompositorMs: null,
    lastFrameNumber: null,
    errors: [],
    reconnects: 0,
    // What is received: the codec from getStats (inbound-rtp's codec, e.g.
    // 'VP8'), and the server's last `rendition` message with every one since
    // the page opened (a rung switch sends one; older servers send none).
    codec: null,
    rendition: null,
    renditions: [],
    // The control channel: whether this viewer may steer ({steer, policy},
    // the server's word), the stamp of the newest input the picture shows
    // (timecode row 2), and input → photon latencies of this page's inputs.
    control: null,
    inputStamp: 0,
    inputToPhotonMs: null,
    inputToPhotonP50Ms: null,
    inputLatencies: [],
    inputToFrameMs: [],
    // Sound: whether a track came, whether the user turned it on, its
    // bitrate, and the A/V offset measured at each full turn (click
    // presented - turn frame presented, ms; positive: sound late).
    audio: { track: false, on: false, bitrateKbps: 0, clicks: 0, turns: 0, avOffsetMs: null, avOffsetP50Ms: null, avOffsets: [], videoHoldMs: null },
  };
  window.csStats = stats;
  window.csFrameLog = [];
  window.csResetLog = () => {
    window.csFrameLog.length = 0;
  };

  let session = null;
  let pendingInputs = []; // stamps (wall ms) of inputs sent, oldest first
  let spinSpeed = 1;
  let spinPaused = false;
  let backoffMs = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let recentLatencies = []; // {at, latencyMs} for the p50 window
  let lastPresentedFrames = null; // metadata.presentedFrames of the previous callback
  let fpsCounter = { frames: 0, at: performance.now() };
  let bitrateCounter = { bytes: null, at: 0 };

  // ---------------------------------------------------------------- signaling

  function wsUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws${tokenQuery}`;
  }

  // One viewer session, whichever transport signals for it. A new session may
  // get another codec or rung (another server), so those are forgotten.
  function newSession(transport) {
    const s = {
      ws: null,
      pc: null,
      closed: false,
      sentEndOfCandidates: false,
      pendingRemoteIce: [],
      opened: true,
      ...transport,
    };
    session = s;
    stats.codec = null;
    stats.rendition = null;
    stats.control = null;
    setState('connecting');
    return s;
  }

  function connect() {
    reconnectTimer = null;
    if (useWhep) {
      connectWhep();
      return;
    }
    if (janusUrl) {
      connectJanus();
      return;
    }
    const s = newSession({ ws: new WebSocket(wsUrl()), opened: false });
    s.ws.onopen = () => {
      s.opened = true;
      startPeer(s).catch((e) => fail(s, `offer: ${e.message || e}`));
    };
    s.ws.onmessage = (ev) => onSignal(s, ev.data).catch((e) => reportError(`signal: ${e.message || e}`));
    s.ws.onclose = () => (s.opened ? fail(s, null) : refusedOrFailed(s));
    s.ws.onerror = () => reportError('websocket error');
  }

  function send(s, msg) {
    if (s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg));
  }

  // WHEP: the offer goes out at once; the answer comes back with all of the
  // server's candidates; ours follow in PATCHes once the session exists.
  function connectWhep() {
    const s = newSession({ whep: { resource: null, etag: null, ufrag: null, pwd: null, queued: [], ended: false } });
    startPeer(s).catch((e) => fail(s, `whep: ${e.message || e}`));
  }

  async function postWhepOffer(s, sdp) {
    const query = new URLSearchParams();
    if (token) query.set('token', token);
    if (pinnedRung !== null) query.set('rung', String(pinnedRung));
    if (wantLipSync) query.set('sync', '1');
    const q = query.toString();
    const res = await fetch(`/whep${q ? `?${q}` : ''}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: sdp,
      cache: 'no-store',
    });
    if (s.closed) return;
    const text = await res.text();
    if (res.status === 401) {
      teardown(s);
      if (s === session) session = null;
      reportError('not authorised');
      setState('not authorised');
      return;
    }
    if (res.status === 400) {
      reportError(`server: ${text.trim()}`);
      giveUp(s, text.trim());
      return;
    }
    if (res.status !== 201) {
      fail(s, `whep: HTTP ${res.status} ${text.trim()}`);
      return;
    }
    s.whep.resource = new URL(res.headers.get('Location'), location.href).toString();
    s.whep.etag = res.headers.get('ETag');
    s.whep.ufrag = (sdp.match(/a=ice-ufrag:(.*)\r?\n/) || [])[1] || '';
    s.whep.pwd = (sdp.match(/a=ice-pwd:(.*)\r?\n/) || [])[1] || '';
    await s.pc.setRemoteDescription({ type: 'answer', sdp: text });
    flushWhepCandidates(s);
  }

  // One PATCH with every candidate gathered since the last (RFC 8840 fragment).
  function flushWhepCandidates(s) {
    const w = s.whep;
    if (!w.resource || s.closed || (!w.queued.length && !w.ended)) return;
    const mid = s.pc.getTransceivers()[0].mid || '0';
    let frag = `a=ice-ufrag:${w.ufrag}\r\na=ice-pwd:${w.pwd}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n`;
    for (const c of w.queued) frag += `a=${c}\r\n`;
    if (w.ended) frag += 'a=end-of-candidates\r\n';
    w.queued = [];
    w.ended = false;
    const headers = { 'Content-Type': 'application/trickle-ice-sdpfrag' };
    if (w.etag) headers['If-Match'] = w.etag;
    if (token) headers.Authorization = `Bearer ${token}`;
    fetch(w.resource, { method: 'PATCH', headers, body: frag }).then((res) => {
      if (!res.ok) reportError(`whep trickle: HTTP ${res.status}`);
    }, (e) => reportError(`whep trickle: ${e.message || e}`));
  }

  // Janus: create a session, attach the Streaming plugin, "watch" the
  // mountpoint, answer the offer its event carries with "start"; events
  // arrive by long poll, and a keepalive holds the session.
  function connectJanus() {
    const s = newSession({ janus: { session: null, handle: null, keepalive: null, tx: 0 } });
    startJanus(s).catch((e) => fail(s, `janus: ${e.message || e}`));
  }

  async function janusPost(s, url, body) {
    body.transaction = `t${++s.janus.tx}`;
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), cache: 'no-store' });
    const doc = await res.json();
    if (doc.janus === 'error') throw new Error(`${body.janus}: ${doc.error?.reason || 'error'}`);
    return doc;
  }

  async function startJanus(s) {
    const j = s.janus;
    j.session = (await janusPost(s, janusUrl, { janus: 'create' })).data.id;
    const sessionUrl = `${janusUrl}/${j.session}`;
    j.keepalive = setInterval(() => janusPost(s, sessionUrl, { janus: 'keepalive' }).catch(() => {}), 25000);
    j.handle = (await janusPost(s, sessionUrl, { janus: 'attach', plugin: 'janus.plugin.streaming' })).data.id;
    const handleUrl = `${sessionUrl}/${j.handle}`;
    const pc = new RTCPeerConnection(await iceConfiguration());
    if (s.closed) { pc.close(); return; }
    s.pc = pc;
    window.csPeerConnection = pc;
    pc.ontrack = (ev) => {
      setLowLatency(ev.receiver);
      attachStream(ev.streams[0] || new MediaStream([ev.track]));
    };
    pc.onicecandidate = (ev) => {
      const candidate = ev.candidate && ev.candidate.candidate
        ? { candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid, sdpMLineIndex: ev.candidate.sdpMLineIndex }
        : { completed: true };
      janusPost(s, handleUrl, { janus: 'trickle', candidate }).catch(() => {});
    };
    pc.onconnectionstatechange = () => onConnectionState(s);
    setState('signaling');
    await janusPost(s, handleUrl, { janus: 'message', body: { request: 'watch', id: janusMountpoint } });
    while (!s.closed) {
      const res = await fetch(`${sessionUrl}?maxev=1&rid=${Date.now()}`, { cache: 'no-store' });
      const event = await res.json();
      if (event.janus === 'error') throw new Error(event.error?.reason || 'error');
      const reason = event.plugindata?.data?.error;
      if (reason) { giveUp(s, `janus: ${reason}`); return; }
      if (event.jsep && event.jsep.type === 'offer') {
        await pc.setRemoteDescription(event.jsep);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        await janusPost(s, handleUrl, { janus: 'message', body: { request: 'start' }, jsep: { type: 'answer', sdp: answer.sdp } });
        // No playout delay, as the server's own stream asks (a mountpoint
        // with playoutdelay_ext; Janus ignores it otherwise).
        await janusPost(s, handleUrl, { janus: 'message', body: { request: 'configure', min_delay: 0, max_delay: 0 } });
        return;
      }
    }
  }

  function sendWhepCandidate(s, c) {
    if (!c || !c.candidate) {
      if (s.sentEndOfCandidates) return;
      s.sentEndOfCandidates = true;
      s.whep.ended = true;
    } else {
      if (c.sdpMLineIndex > 0) return; // bundled: the first section carries them all
      s.whep.queued.push(c.candidate);
    }
    flushWhepCandidates(s);
  }

  // The server's STUN/TURN servers (GET /ice-servers, fresh TURN credentials
  // each time), so that a viewer behind NAT can use the relay too; ?relay=1
  // forces the relay (iceTransportPolicy "relay"), for testing a TURN set-up.
  async function iceConfiguration() {
    const config = { bundlePolicy: 'max-bundle', iceServers: [] };
    try {
      const res = await fetch(`/ice-servers${tokenQuery}`, { cache: 'no-store' });
      if (res.ok) config.iceServers = (await res.json()).iceServers || [];
      else reportError(`ice servers: HTTP ${res.status}`);
    } catch (e) {
      reportError(`ice servers: ${e.message || e}`);
    }
    if (params.get('relay') === '1') config.iceTransportPolicy = 'relay';
    return config;
  }

  async function startPeer(s) {
    const pc = new RTCPeerConnection(await iceConfiguration());
    if (s.closed) {
      pc.close();
      return;
    }
    s.pc = pc;
    window.csPeerConnection = pc;
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    preferH264(transceiver);
    if (!wantLipSync) setLowLatency(transceiver.receiver);
    // ?sound=1: sound too, when the server has it (CS_AUDIO=1); without,
    // the answer turns this m-line down and nothing else changes. Not by
    // default: with a sound track received, Chromium 156 here decoded the
    // video but never presented a frame in about 1 page load in 4-6 (none
    // in 8 without; cause not found, README "Sound").
    if (wantSound) setLowLatency(pc.addTransceiver('audio', { direction: 'recvonly' }).receiver);
    if (!s.whep) openControl(s, pc);

    pc.ontrack = (ev) => attachTrack(s, ev);
    pc.onicecandidate = (ev) => sendCandidate(s, ev.candidate);
    pc.onconnectionstatechange = () => onConnectionState(s);
    // A TURN server that refuses the credentials (401) or never answers
    // (701): said once per server, not left to a silent "connecting".
    const iceErrors = new Set();
    pc.onicecandidateerror = (ev) => {
      const key = `${ev.url} ${ev.errorCode}`;
      if (!ev.url || iceErrors.has(key)) return;
      iceErrors.add(key);
      reportError(`ICE server ${ev.url}: ${ev.errorCode} ${ev.errorText || ''}`.trim());
    };

    setState('signaling');
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (s.whep) {
      await postWhepOffer(s, offer.sdp);
      return;
    }
    const msg = { type: 'offer', sdp: offer.sdp };
    if (pinnedRung !== null) msg.rung = pinnedRung;
    if (wantLipSync) msg.sync = true;
    send(s, msg);
  }

  function sendCandidate(s, c) {
    if (s.whep) {
      sendWhepCandidate(s, c);
      return;
    }
    // Chrome reports end-of-candidates as a null event candidate (and
    // sometimes an empty one); the server wants an empty string for both.
    if (!c || !c.candidate) {
      if (s.sentEndOfCandidates) return;
      s.sentEndOfCandidates = true;
      send(s, { type: 'ice', candidate: '', sdpMLineIndex: c ? c.sdpMLineIndex ?? 0 : 0 });
      return;
    }
    send(s, { type: 'ice', candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex });
  }

  async function onSignal(s, data) {
    if (s.closed) return;
    const msg = JSON.parse(data);
    if (msg.type === 'answer') {
      await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      const queued = s.pendingRemoteIce;
      s.pendingRemoteIce = [];
      for (const c of queued) await addRemoteCandidate(s, c);
    } else if (msg.type === 'ice') {
      // Candidates can overtake the answer; hold them until it is applied.
      if (!s.pc || !s.pc.remoteDescription) s.pendingRemoteIce.push(msg);
      else await addRemoteCandidate(s, msg);
    } else if (msg.type === 'rendition') {
      onRendition(msg);
    } else if (msg.type === 'error') {
      reportError(`server: ${msg.message}`);
      // This browser's offer will never do (no codec the server sends, a
      // rung the ladder lacks): retrying would only repeat the refusal.
      if (/no codec the server can send|asks for rung/.test(String(msg.message))) giveUp(s, msg.message);
    }
  }

  // {"type":"rendition","codec":"VP8","rung":1,"rungs":3,"kbps":1000,
  // "width":640,"height":360,"fps":30}: after the answer and on every switch.
  function onRendition(msg) {
    const num = (v) => (Number.isFinite(v) ? v : null);
    const r = {
      codec: typeof msg.codec === 'string' ? msg.codec : null,
      rung: num(msg.rung),
      rungs: num(msg.rungs),
      kbps: num(msg.kbps),
      width: num(msg.width),
      height: num(msg.height),
      fps: num(msg.fps),
      at: Date.now(),
    };
    stats.rendition = r;
    stats.renditions.push(r);
    if (stats.renditions.length > RENDITIONS_CAP) stats.renditions.shift();
    renderOverlay();
  }

  async function addRemoteCandidate(s, msg) {
    if (!msg.candidate) {
      await s.pc.addIceCandidate(null).catch(() => {});
      return;
    }
    await s.pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: msg.sdpMLineIndex ?? 0 });
  }

  function onConnectionState(s) {
    if (s !== session) return;
    const st = s.pc.connectionState;
    setState(st);
    if (st === 'connected') backoffMs = BACKOFF_MIN_MS;
    if (st === 'failed' || st === 'disconnected' || st === 'closed') fail(s, `peer connection ${st}`);
  }

  // ------------------------------------------------------------ reconnection

  function fail(s, reason) {
    if (s.closed) return;
    if (reason) reportError(reason);
    teardown(s);
    if (s !== session) return;
    session = null;
    scheduleReconnect();
  }

  // The WebSocket API hides why an upgrade failed; a plain request with the
  // same token tells a refused token (401: no point in retrying) from a
  // server that is down or busy (retry).
  async function refusedOrFailed(s) {
    let status = null;
    try {
      status = (await fetch(`/stats${tokenQuery}`, { cache: 'no-store' })).status;
    } catch (_) { /* unreachable: retry */ }
    if (status === 401) {
      if (s.closed) return;
      teardown(s);
      if (s === session) session = null;
      reportError('not authorised');
      setState('not authorised');
      return;
    }
    fail(s, null);
  }

  function giveUp(s, why) {
    if (s.closed) return;
    teardown(s);
    if (s === session) session = null;
    setState(`cannot play: ${why}`);
  }

  function teardown(s) {
    s.closed = true;
    if (s.ws) {
      s.ws.onopen = s.ws.onmessage = s.ws.onclose = s.ws.onerror = null;
      try { s.ws.close(); } catch (_) { /* already closed */ }
    }
    if (s.janus && s.janus.session) {
      clearInterval(s.janus.keepalive);
      const body = JSON.stringify({ janus: 'destroy', transaction: 'bye' });
      fetch(`${janusUrl}/${s.janus.session}`, { method: 'POST', body, keepalive: true }).catch(() => {});
    }
    if (s.whep && s.whep.resource) {
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      fetch(s.whep.resource, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
    }
    if (s.control) s.control.onmessage = null;
    if (s.pc) {
      s.pc.onconnectionstatechange = s.pc.onicecandidate = s.pc.ontrack = null;
      s.pc.close();
    }
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    setState(`reconnecting in ${(delay / 1000).toFixed(1)} s`);
    reconnectTimer = setTimeout(() => {
      stats.reconnects += 1;
      connect();
    }, delay);
  }

  // ------------------------------------------------------------------- media

  // H.264 first where the browser has it; every other codec stays in the
  // offer after it, in the browser's order, so that a browser without H.264
  // (Firefox without OpenH264) offers VP8 untouched and the server picks
  // from CS_CODECS what this browser can take.
  function preferH264(transceiver) {
    if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
    const caps = RTCRtpReceiver.getCapabilities('video');
    if (!caps) return;
    const rank = (c) => {
      const fmtp = c.sdpFmtpLine || '';
      const pm1 = /packetization-mode=1/.test(fmtp) ? 0 : 2;
      const cb = /profile-level-id=42e01f/i.test(fmtp) ? 0 : 1;
      return pm1 + cb;
    };
    const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264';
    const h264 = caps.codecs.filter(isH264).sort((a, b) => rank(a) - rank(b));
    if (h264.length === 0) return;
    const rest = caps.codecs.filter((c) => !isH264(c));
    try {
      transceiver.setCodecPreferences([...h264, ...rest]);
    } catch (e) {
      reportError(`setCodecPreferences: ${e.message}`);
    }
  }

  function setLowLatency(receiver) {
    if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
    else if ('playoutDelayHint' in receiver) receiver.playoutDelayHint = 0;
  }

  // The video element plays the video track alone and a sound element the
  // sound, whatever streams (msid) the answer put them in: the browser
  // keeps the two in sync by their RTP streams either way, and a second
  // stream set on the video element would replace the first.
  function attachTrack(s, ev) {
    if (ev.track.kind === 'audio') {
      onAudioTrack(ev.track);
      return;
    }
    attachStream(new MediaStream([ev.track]));
  }

  function attachStream(stream) {
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    // A new stream restarts the server's frame count as far as we know.
    stats.lastFrameNumber = null;
    lastPresentedFrames = null;
    video.play().catch((e) => {
      // AbortError only means a newer stream replaced this one.
      if (e.name !== 'AbortError') reportError(`play: ${e.message}`);
    });
  }

  // ---------------------------------------------------------------- timecode

  const strip = document.createElement('canvas');
  const stripCtx = strip.getContext('2d', { willReadFrequently: true });

  // Returns {renderMs, frame, input, turns} or null when the frame has no usable strip.
  function decodeTimecode() {
    const w = video.videoWidth;
    const h = video.videoHeight;
    const blockW = Math.floor(w / STRIP_BLOCKS);
    const rowH = Math.floor(h / STRIP_ROW_DIVISOR);
    if (blockW < 1 || rowH < 1) return null;
    const stripW = blockW * STRIP_BLOCKS;
    const stripH = rowH * 4;
    if (strip.width !== stripW || strip.height !== stripH) {
      strip.width = stripW;
      strip.height = stripH;
    }
    stripCtx.drawImage(video, 0, 0, stripW, stripH, 0, 0, stripW, stripH);
    const pixels = stripCtx.getImageData(0, 0, stripW, stripH).data;
    return {
      renderMs: readRow(pixels, stripW, blockW, rowH, 0),
      frame: readRow(pixels, stripW, blockW, rowH, 1),
      input: readRow(pixels, stripW, blockW, rowH, 2),
      turns: readRow(pixels, stripW, blockW, rowH, 3),
    };
  }

  function readRow(pixels, stripW, blockW, rowH, row) {
    const y = row * rowH + Math.floor(rowH / 2);
    let value = 0;
    for (let b = 0; b < STRIP_BLOCKS; b++) {
      const x = b * blockW + Math.floor(blockW / 2);
      const i = (y * stripW + x) * 4;
      const luma = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
      // Multiply instead of shifting: JS bit operators are signed 32-bit.
      value = value * 2 + (luma >= 128 ? 1 : 0);
    }
    return value;
  }

  // Difference a - b of two values mod 2^32, as a signed number.
  function diffMod32(a, b) {
    const d = (((a - b) % TWO_32) + TWO_32) % TWO_32;
    return d >= 2 ** 31 ? d - TWO_32 : d;
  }

  function onVideoFrame(_now, metadata) {
    video.requestVideoFrameCallback(onVideoFrame);
    stats.framesPresented += 1;
    fpsCounter.frames += 1;
    stats.width = video.videoWidth;
    stats.height = video.videoHeight;

    const presentedMs = performance.timeOrigin + metadata.expectedDisplayTime;
    const latencyMs = measureFrame(metadata, presentedMs);
    recordGraphFrame(presentedMs, latencyMs);
  }

  // Returns the frame's glass-to-glass latency, or null without a timecode.
  function measureFrame(metadata, presentedMs) {
    const tc = decodeTimecode();
    if (!tc) return null;
    const latencyMs = diffMod32(presentedMs % TWO_32, tc.renderMs);
    if (Math.abs(latencyMs) > MAX_PLAUSIBLE_LATENCY_MS) return null;

    countLostFrames(tc.frame, metadata.presentedFrames);
    stats.lastFrameNumber = tc.frame;
    stats.latencyMs = latencyMs;
    recentLatencies.push({ at: presentedMs, latencyMs });
    // Also to the moment the frame was handed to the compositor: the part of
    // the latency that is not the browser's own display pipeline.
    const submittedMs = performance.timeOrigin + metadata.presentationTime;
    const toCompositorMs = diffMod32(submittedMs % TWO_32, tc.renderMs);
    stats.toCompositorMs = toCompositorMs;
    logFrame({ frame: tc.frame, renderMs: tc.renderMs, input: tc.input, presentedMs, latencyMs, toCompositorMs });
    measureInput(tc.input, presentedMs, tc.renderMs);
    measureTurn(tc.turns, presentedMs);
    return latencyMs;
  }

  // Input → photon: the first frame whose row 2 carries the stamp of an
  // input this page sent shows that input; inputs sent before it were
  // applied with it (the server folds inputs between two frames).
  function measureInput(stamp, presentedMs, renderMs) {
    if (stamp === stats.inputStamp) return;
    stats.inputStamp = stamp;
    const i = pendingInputs.findIndex((t) => t % TWO_32 === stamp);
    if (i < 0) return;
    const latency = presentedMs - pendingInputs[i];
    // From the oldest input this frame applied (every one up to i: the
    // server folds inputs between two frames) to the frame's render: the
    // server's part, in frame intervals "within N frames".
    stats.inputToFrameMs.push(diffMod32(renderMs, pendingInputs[0] % TWO_32));
    if (stats.inputToFrameMs.length > INPUT_LATENCIES_CAP) stats.inputToFrameMs.shift();
    pendingInputs = pendingInputs.slice(i + 1);
    stats.inputToPhotonMs = latency;
    stats.inputLatencies.push(latency);
    if (stats.inputLatencies.length > INPUT_LATENCIES_CAP) stats.inputLatencies.shift();
    const sorted = stats.inputLatencies.slice(-50).sort((a, b) => a - b);
    stats.inputToPhotonP50Ms = sorted[Math.floor((sorted.length - 1) / 2)];
  }

  // ------------------------------------------------------------------ sound

  let audioTrack = null;
  let audioContext = null;
  let lastTurns = null;
  let pendingTurns = []; // presented ms (epoch) of turn frames not yet matched
  let audioReceiverBefore = null; // the audio receiver's counters at the last stats read
  let pendingClicks = []; // presented ms (epoch) of clicks not yet matched

  // A reconnect brings a new track: the element and the detector move to
  // it (the old one has ended), and half-made pairs are forgotten.
  function onAudioTrack(track) {
    audioTrack = track;
    stats.audio.track = true;
    unmuteButton.hidden = false;
    pendingTurns = [];
    pendingClicks = [];
    audioReceiverBefore = null;
    if (sound.srcObject) sound.srcObject = new MediaStream([track]);
    if (audioContext) listenForClicks();
  }

  // Browsers play sound only after a user gesture: the button is that
  // gesture, and turns the sound on (or off again). The track goes to the
  // sound element only then: attached to a muted element that is not
  // playing, Chromium 156 here often never presented a video frame to a
  // later page of the same server (decoded, never shown: 5 of 9 later
  // pages; 0 of 7 with the track left unattached until the click).
  unmuteButton.addEventListener('click', () => {
    sound.muted = !sound.muted;
    stats.audio.on = !sound.muted;
    unmuteButton.textContent = sound.muted ? 'Sound off: click for sound' : 'Sound on: click to mute';
    if (!sound.muted) {
      if (audioTrack && !sound.srcObject) sound.srcObject = new MediaStream([audioTrack]);
      sound.play().catch((e) => reportError(`sound: ${e.message}`));
      startClickDetector();
    }
  });

  function startClickDetector() {
    if (audioContext || !window.AudioContext) {
      if (audioContext) audioContext.resume().catch(() => {});
      return;
    }
    audioContext = new AudioContext({ latencyHint: 'interactive' });
    if (audioTrack) listenForClicks();
  }

  // Finds each click's first sample in the received sound and its
  // presentation time from the context's output clock. An AudioWorklet
  // does it on the audio thread; it exists only in a secure context (https
  // or localhost), so elsewhere a ScriptProcessor does it on the main
  // thread, where a busy page may drop a block and with it a click.
  function listenForClicks() {
    (listenForClicks.nodes || []).forEach((node) => node.disconnect());
    const source = audioContext.createMediaStreamSource(new MediaStream([audioTrack]));
    listenForClicks.nodes = [source]; // kept alive
    const sink = (detector) => {
      source.connect(detector);
      detector.connect(audioContext.destination);
      listenForClicks.nodes.push(detector);
    };
    if (audioContext.audioWorklet) {
      clickWorklet(audioContext)
        .then(sink)
        .catch((e) => {
          reportError(`sound: click detector: ${e.message}`);
          sink(clickScriptProcessor(audioContext));
        });
    } else {
      sink(clickScriptProcessor(audioContext));
    }
  }

  // A click's first sample: above CLICK_LEVEL, at least the refractory
  // time after the previous one. Shared by both detectors (the worklet's
  // copy is this function's source).
  function clickDetector(refractorySamples) {
    let sinceClick = Infinity;
    return (samples, onClickAt) => {
      for (let i = 0; i < samples.length; i++) {
        sinceClick += 1;
        if (Math.abs(samples[i]) < CLICK_LEVEL || sinceClick < refractorySamples) continue;
        sinceClick = 0;
        onClickAt(i);
      }
    };
  }

  // The module is registered once per context; every reconnect makes a
  // node of it.
  let clickModule = null;
  async function clickWorklet(context) {
    if (!clickModule) clickModule = loadClickModule(context);
    await clickModule;
    const node = new AudioWorkletNode(context, 'cs-click-detector', { numberOfOutputs: 1, outputChannelCount: [1] });
    // The sample at context time t is played at t: no offset to add.
    node.port.onmessage = (ev) => onClick(contextTimeToEpochMs(ev.data));
    return node;
  }

  async function loadClickModule(context) {
    const code = `const CLICK_LEVEL = ${CLICK_LEVEL};
      const clickDetector = ${clickDetector.toString()};
      registerProcessor('cs-click-detector', class extends AudioWorkletProcessor {
        constructor() {
          super();
          this.detect = clickDetector(${(CLICK_REFRACTORY_MS / 1000)} * sampleRate);
        }
        process(inputs) {
          const samples = inputs[0] && inputs[0][0];
          if (samples) this.detect(samples, (i) => this.port.postMessage((currentFrame + i) / sampleRate));
          return true;
        }
      });`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    try {
      await context.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function clickScriptProcessor(context) {
    const node = context.createScriptProcessor(CLICK_BLOCK, 1, 1);
    const rate = context.sampleRate;
    const detect = clickDetector((CLICK_REFRACTORY_MS / 1000) * rate);
    node.onaudioprocess = (ev) => {
      // This block's input was captured one block before the output it
      // makes is played (ev.playbackTime).
      const blockStart = ev.playbackTime - (2 * CLICK_BLOCK) / rate;
      detect(ev.inputBuffer.getChannelData(0), (i) => onClick(contextTimeToEpochMs(blockStart + i / rate)));
    };
    return node;
  }

  function contextTimeToEpochMs(contextTime) {
    stats.audio.outputLatencyMs = 1000 * (audioContext.outputLatency || 0);
    stats.audio.baseLatencyMs = 1000 * (audioContext.baseLatency || 0);
    const ts = audioContext.getOutputTimestamp();
    return performance.timeOrigin + ts.performanceTime + (contextTime - ts.contextTime) * 1000;
  }

  function measureTurn(turns, presentedMs) {
    if (lastTurns !== null && turns > lastTurns && turns - lastTurns < 100) {
      stats.audio.turns += 1;
      if (audioContext) matchAv('turn', presentedMs);
    }
    lastTurns = turns;
  }

  function onClick(atMs) {
    stats.audio.clicks += 1;
    matchAv('click', atMs);
  }

  // Pairs a click with the turn frame nearest it within AV_MATCH_MS,
  // whichever comes first.
  function matchAv(kind, atMs) {
    const others = kind === 'click' ? pendingTurns : pendingClicks;
    const mine = kind === 'click' ? pendingClicks : pendingTurns;
    const i = others.findIndex((t) => Math.abs(t - atMs) <= AV_MATCH_MS);
    if (i < 0) {
      mine.push(atMs);
      while (mine.length && atMs - mine[0] > 2 * AV_MATCH_MS) mine.shift();
      return;
    }
    const other = others.splice(i, 1)[0];
    const offset = kind === 'click' ? atMs - other : other - atMs;
    const a = stats.audio;
    a.avOffsetMs = offset;
    a.avOffsets.push(offset);
    if (a.avOffsets.length > AV_OFFSETS_CAP) a.avOffsets.shift();
    const sorted = a.avOffsets.slice(-50).sort((x, y) => x - y);
    a.avOffsetP50Ms = sorted[Math.floor((sorted.length - 1) / 2)];
  }

  // ---------------------------------------------------------------- control

  // The control data channel (README "Control channel"): opened before the
  // offer, so that the server's answer accepts it.
  function openControl(s, pc) {
    const channel = pc.createDataChannel('control');
    s.control = channel;
    channel.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (_) { return; }
      if (msg.type === 'control') {
        stats.control = { steer: !!msg.steer, policy: String(msg.policy || '') };
        renderOverlay();
      } else if (msg.type === 'error') {
        reportError(`control: ${msg.message}`);
      }
    };
  }

  // Sends one control message; steering messages carry the wall clock, and
  // are remembered for input → photon. False when no channel is open.
  function sendControl(msg) {
    const channel = session && session.control;
    if (!channel || channel.readyState !== 'open') return false;
    const steering = ['rotate', 'speed', 'pause', 'resume', 'reset'].includes(msg.type);
    const out = steering ? { ...msg, t: Date.now() } : msg;
    channel.send(JSON.stringify(out));
    // Inputs the server refuses (not ours to steer) are never applied.
    if (steering && stats.control && stats.control.steer) {
      pendingInputs.push(out.t);
      if (pendingInputs.length > PENDING_INPUTS_CAP) pendingInputs.shift();
    }
    return true;
  }
  window.csSendControl = sendControl;

  // Drag (mouse, pen or finger) turns the cube: movement is summed and sent
  // once per animation frame, at most the display's rate.
  let drag = null;
  video.addEventListener('pointerdown', (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, dx: 0, dy: 0, queued: false };
    video.setPointerCapture(ev.pointerId);
  });
  video.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    drag.dx += ev.clientX - drag.x;
    drag.dy += ev.clientY - drag.y;
    drag.x = ev.clientX;
    drag.y = ev.clientY;
    if (drag.queued) return;
    drag.queued = true;
    requestAnimationFrame(flushDrag);
  });
  const endDrag = () => {
    flushDrag();
    drag = null;
  };
  video.addEventListener('pointerup', endDrag);
  video.addEventListener('pointercancel', endDrag);

  function flushDrag() {
    if (!drag) return;
    drag.queued = false;
    if (drag.dx === 0 && drag.dy === 0) return;
    sendControl({ type: 'rotate', yaw: drag.dx * DRAG_DEGREES_PER_PX, pitch: drag.dy * DRAG_DEGREES_PER_PX });
    drag.dx = 0;
    drag.dy = 0;
  }

  // Keys: + / - spin speed, space pause/resume, r reset, k keyframe,
  // [ lower quality, ] higher quality.
  window.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === '+' || ev.key === '=') {
      spinSpeed = Math.min(SPEED_MAX, spinSpeed * SPEED_STEP);
      sendControl({ type: 'speed', value: spinSpeed });
    } else if (ev.key === '-') {
      spinSpeed = spinSpeed / SPEED_STEP;
      sendControl({ type: 'speed', value: spinSpeed });
    } else if (ev.key === ' ') {
      spinPaused = !spinPaused;
      sendControl({ type: spinPaused ? 'pause' : 'resume' });
    } else if (ev.key === 'r') {
      spinSpeed = 1;
      spinPaused = false;
      sendControl({ type: 'reset' });
    } else if (ev.key === 'k') {
      sendControl({ type: 'keyframe' });
    } else if (ev.key === '[') {
      sendControl({ type: 'quality', step: 'lower' });
    } else if (ev.key === ']') {
      sendControl({ type: 'quality', step: 'higher' });
    } else {
      return;
    }
    ev.preventDefault();
  });

  // A gap in frame numbers is loss only where the compositor did not present
  // the frames either; frames presented while this callback was starved are
  // not lost, so the presentedFrames delta is subtracted.
  function countLostFrames(frame, presentedFrames) {
    const prev = stats.lastFrameNumber;
    const prevPresented = lastPresentedFrames;
    lastPresentedFrames = presentedFrames;
    if (prev === null || prevPresented === null) return;
    const gap = diffMod32(frame, prev);
    if (gap <= 1 || gap > MAX_PLAUSIBLE_GAP) return;
    const unseen = Math.max(0, presentedFrames - prevPresented - 1);
    stats.framesLost += Math.max(0, gap - 1 - unseen);
  }

  function logFrame(entry) {
    const log = window.csFrameLog;
    if (log.length >= FRAME_LOG_CAP) log.shift();
    log.push(entry);
  }

  // ------------------------------------------------------------------- stats

  async function updateStats() {
    const now = performance.now();
    stats.fps = round1((fpsCounter.frames * 1000) / (now - fpsCounter.at));
    fpsCounter = { frames: 0, at: now };
    stats.latencyP50Ms = recentP50();
    stats.bitrateKbps = await readBitrateKbps();
    if (wantLipSync) holdVideoForSound();
    renderOverlay();
  }


  function recentP50() {
    const cutoff = performance.timeOrigin + performance.now() - P50_WINDOW_MS;
    recentLatencies = recentLatencies.filter((r) => r.at >= cutoff);
    if (recentLatencies.length === 0) return null;
    const sorted = recentLatencies.map((r) => r.latencyMs).sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  // The audio receiver's jitter buffer over the last stats interval (its
  // cumulative average would still carry the first seconds, when it is
  // deep), and how often it stretched or concealed: what moves the A/V offset.
  function readAudioReceiver(r) {
    const now = {
      delayS: r.jitterBufferDelay || 0,
      emitted: r.jitterBufferEmittedCount || 0,
      concealed: r.concealedSamples || 0,
      inserted: r.insertedSamplesForDeceleration || 0,
      removed: r.removedSamplesForAcceleration || 0,
    };
    const was = audioReceiverBefore || { delayS: 0, emitted: 0 };
    const emitted = now.emitted - was.emitted;
    if (emitted > 0) stats.audio.jitterBufferMs = (1000 * (now.delayS - was.delayS)) / emitted;
    stats.audio.concealedSamples = now.concealed;
    stats.audio.stretchedSamples = now.inserted + now.removed;
    audioReceiverBefore = now;
  }

  // ?sync=1: the video receiver's playout target is what the sound takes
  // after it arrives (its jitter buffer, last interval, and the output's
  // latency) plus one Opus block (the server sends a block's sound once
  // the block is complete; a frame goes at once). Chromium then holds each
  // frame that long before it shows it. Measured here (720p30, 8x): the
  // click 71 ms after its frame without the hold, 29 ms with a fixed 70 ms
  // hold. Moved only by 10 ms or more, so that NetEq's small swings do not
  // jolt the picture; nothing is held while the sound is off.
  const SOUND_BLOCK_MS = 10;
  const HOLD_STEP_MS = 10;
  const MAX_HOLD_MS = 400;
  function holdVideoForSound() {
    const pc = session && session.pc;
    const receiver = pc && pc.getReceivers().find((r) => r.track && r.track.kind === 'video');
    if (!receiver || !('jitterBufferTarget' in receiver)) return;
    const a = stats.audio;
    let hold = 0;
    if (a.on && audioContext && a.jitterBufferMs != null) {
      const outputMs = 1000 * ((audioContext.outputLatency || 0) + (audioContext.baseLatency || 0));
      hold = Math.min(MAX_HOLD_MS, Math.round(a.jitterBufferMs + outputMs + SOUND_BLOCK_MS));
    }
    if (a.videoHoldMs !== null && Math.abs(hold - a.videoHoldMs) < HOLD_STEP_MS) return;
    try {
      receiver.jitterBufferTarget = hold;
      a.videoHoldMs = hold;
    } catch (e) {
      reportError(`lip sync: ${e.message}`);
    }
  }

  async function readBitrateKbps() {
    const pc = session && session.pc;
    if (!pc) {
      bitrateCounter = { bytes: null, at: 0 };
      return 0;
    }
    const report = await pc.getStats().catch(() => null);
    let bytes = null;
    let audioBytes = null;
    if (report) {
      report.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          audioBytes = r.bytesReceived;
          readAudioReceiver(r);
        }
        if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
        bytes = r.bytesReceived;
        const codec = r.codecId && report.get(r.codecId);
        if (codec && codec.mimeType) stats.codec = codec.mimeType.replace(/^video\//i, '').toUpperCase();
        // Cumulative receiver figures, so that a benchmark can tell how much
        // of the glass-to-glass time the browser spends buffering and decoding.
        stats.receiver = {
          jitterBufferDelayS: r.jitterBufferDelay || 0,
          jitterBufferEmittedCount: r.jitterBufferEmittedCount || 0,
          totalDecodeTimeS: r.totalDecodeTime || 0,
          totalProcessingDelayS: r.totalProcessingDelay || 0,
          framesDecoded: r.framesDecoded || 0,
          // What this viewer asked the server to repair.
          nackCount: r.nackCount || 0,
          pliCount: r.pliCount || 0,
          firCount: r.firCount || 0,
          packetsLost: r.packetsLost || 0,
        };
      });
    }
    const now = performance.now();
    const prev = bitrateCounter;
    bitrateCounter = { bytes, audioBytes, at: now };
    if (audioBytes !== null && prev.audioBytes != null && audioBytes >= prev.audioBytes)
      stats.audio.bitrateKbps = Math.round(((audioBytes - prev.audioBytes) * 8) / (now - prev.at));
    if (bytes === null || prev.bytes === null || bytes < prev.bytes) return 0;
    return Math.round(((bytes - prev.bytes) * 8) / (now - prev.at));
  }

  function round1(x) {
    return Math.round(x * 10) / 10;
  }

  // ----------------------------------------------------------------- overlay

  function setState(state) {
    stats.state = state;
    renderOverlay();
  }

  function reportError(message) {
    stats.errors.push(message);
    if (stats.errors.length > ERRORS_CAP) stats.errors.shift();
    renderOverlay();
  }

  function fmtMs(x) {
    return x === null ? '–' : `${Math.round(x)} ms`;
  }

  // 'VP8 · rung 1/3 · 1000 kbit/s · 640×360': the codec received (getStats;
  // the server's word until getStats knows) and the server's rung, numbered
  // as ?rung=N takes it (0 = top). An older server sends no rendition: the
  // codec alone.
  function renditionLine() {
    const r = stats.rendition;
    const codec = stats.codec || r?.codec || 'codec –';
    const via = useWhep ? ' · WHEP' : janusUrl ? ' · via Janus' : '';
    if (!r || r.rung === null) return codec + via;
    const parts = [codec, r.rungs === null ? `rung ${r.rung}` : `rung ${r.rung}/${r.rungs}`];
    if (r.kbps !== null) parts.push(`${r.kbps} kbit/s`);
    if (r.width !== null && r.height !== null) parts.push(`${r.width}×${r.height}`);
    if (via) parts.push(via.slice(3));
    return parts.join(' · ');
  }

  function soundLine() {
    const a = stats.audio;
    if (!a.track) return 'no sound';
    if (!a.on) return `sound off  ${a.bitrateKbps} kbps`;
    const hold = a.videoHoldMs !== null ? `  lip sync: picture held ${a.videoHoldMs} ms` : '';
    return `sound ${a.bitrateKbps} kbps  A/V ${fmtMs(a.avOffsetMs)} (p50 ${fmtMs(a.avOffsetP50Ms)}, ${a.avOffsets.length} turns)${hold}`;
  }

  function controlLine() {
    if (!stats.control) return 'view-only';
    if (stats.control.steer) return 'drag to steer';
    return stats.control.policy === 'first' ? 'another viewer steers' : 'view-only';
  }

  function renderOverlay() {
    const lines = [
      stats.state,
      `${stats.fps.toFixed(1)} fps  ${stats.bitrateKbps} kbps`,
      `${stats.width}x${stats.height}`,
      renditionLine(),
      // Chrome's expected display time can sit a whole display interval
      // from the actual draw (bench/README.md); the compositor hand-off is
      // the part the stream controls.
      `latency ${fmtMs(stats.latencyMs)} (p50 ${fmtMs(stats.latencyP50Ms)})`,
      `input → photon ${fmtMs(stats.inputToPhotonMs)} (p50 ${fmtMs(stats.inputToPhotonP50Ms)})  ${controlLine()}`,
      `to compositor ${fmtMs(stats.toCompositorMs)}`,
      soundLine(),
      `lost ${stats.framesLost}  reconnects ${stats.reconnects}`,
      `sent: NACK ${stats.receiver?.nackCount ?? 0}  PLI ${stats.receiver?.pliCount ?? 0}`,
    ];
    const lastError = stats.errors[stats.errors.length - 1];
    if (lastError) lines.push(`error: ${lastError}`);
    overlayText.textContent = lines.join('\n');
  }

  // ------------------------------------------------------------------- graph

  // Ring of the last GRAPH_CAPACITY presented frames: when, latency (NaN
  // without a timecode) and time since the previous presented frame (NaN for
  // the first one; what page_test's longestFreezeMs takes the longest of).
  // A reconnect's wait counts as a gap: the picture froze for that long.
  const ring = {
    at: new Float64Array(GRAPH_CAPACITY),
    latencyMs: new Float32Array(GRAPH_CAPACITY),
    gapMs: new Float32Array(GRAPH_CAPACITY),
    next: 0,
    size: 0,
  };
  let graphPrevAt = null;
  const graphCtx = graph.getContext('2d');
  const graphFont = getComputedStyle(graph).fontFamily;
  // Per device-pixel column of the plot; reallocated when the width changes.
  let graphCols = { gap: new Float32Array(0), latency: new Float32Array(0) };
  window.csGraph = { capacity: GRAPH_CAPACITY, windowMs: GRAPH_WINDOW_MS, draws: 0, lastDrawMs: 0 };
  Object.defineProperty(window.csGraph, 'size', { get: () => ring.size, enumerable: true });

  function recordGraphFrame(at, latencyMs) {
    const i = ring.next;
    ring.at[i] = at;
    ring.latencyMs[i] = latencyMs === null ? NaN : latencyMs;
    ring.gapMs[i] = graphPrevAt === null ? NaN : at - graphPrevAt;
    graphPrevAt = at;
    ring.next = (i + 1) % GRAPH_CAPACITY;
    ring.size = Math.min(ring.size + 1, GRAPH_CAPACITY);
  }

  // The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 × 10^n at or above x.
  function niceCeil(x) {
    const p = 10 ** Math.floor(Math.log10(x));
    for (const m of [1, 1.5, 2, 3, 4, 5, 6, 8]) if (m * p >= x) return m * p;
    return 10 * p;
  }

  function fmtAxis(ms) {
    return ms < 1000 ? `${ms}` : `${ms / 1000} s`;
  }

  function drawGraph() {
    const cssW = graph.clientWidth;
    const cssH = graph.clientHeight;
    // Nothing to do while hidden (a background tab, or #overlay display:none).
    if (cssW === 0 || cssH === 0 || document.hidden) return;
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cssW * dpr);
    const h = Math.round(cssH * dpr);
    if (graph.width !== w || graph.height !== h) {
      graph.width = w;
      graph.height = h;
    }
    const ctx = graphCtx;
    ctx.clearRect(0, 0, w, h);
    const px = (css) => Math.round(css * dpr);
    const lineW = Math.max(1, px(1));
    const smallFont = `${9 * dpr}px ${graphFont}`;
    const font = `${10 * dpr}px ${graphFont}`;
    // Plot area: below the header, left of the axis labels.
    ctx.font = smallFont;
    const plotW = w - Math.ceil(ctx.measureText('1.5 s').width) - px(4);
    const top = px(GRAPH_HEADER_CSS_PX + 4);
    const bottom = h - lineW;
    if (plotW < px(20) || bottom - top < px(10)) return; // squeezed too small to read

    if (graphCols.gap.length !== plotW) {
      graphCols = { gap: new Float32Array(plotW), latency: new Float32Array(plotW) };
    }
    const { gap, latency } = graphCols;
    gap.fill(NaN);
    latency.fill(NaN);

    // Bucket the window's frames into columns, keeping each column's maximum.
    // A gap covers the columns of its interval, so a freeze is as wide as it
    // lasted and as tall.
    const now = performance.timeOrigin + t0;
    const start = now - GRAPH_WINDOW_MS;
    const msPerCol = GRAPH_WINDOW_MS / plotW;
    const colOf = (at) => Math.min(plotW - 1, Math.max(0, Math.floor((at - start) / msPerCol)));
    let maxGap = null;
    let maxLatency = null;
    for (let k = 0; k < ring.size; k++) {
      const i = (ring.next - ring.size + k + GRAPH_CAPACITY) % GRAPH_CAPACITY;
      const at = ring.at[i];
      if (at < start) continue;
      const c = colOf(at);
      const g = ring.gapMs[i];
      const l = ring.latencyMs[i];
      if (g >= 0) {
        for (let j = colOf(at - g); j <= c; j++) if (!(gap[j] >= g)) gap[j] = g;
        if (maxGap === null || g > maxGap) maxGap = g;
      }
      if (!Number.isNaN(l)) {
        if (!(latency[c] >= l)) latency[c] = l;
        if (maxLatency === null || l > maxLatency) maxLatency = l;
      }
    }
    // A freeze in progress: the wait so far, from the last frame to now.
    const openGap = graphPrevAt === null ? 0 : now - graphPrevAt;
    const drawOpenGap = openGap > GRAPH_OPEN_GAP_MS;
    if (drawOpenGap) maxGap = Math.max(maxGap ?? 0, openGap);
    const scaleMs = niceCeil(Math.max(GRAPH_MIN_SCALE_MS, maxGap ?? 0, maxLatency ?? 0));
    const yOf = (ms) => bottom - (Math.min(Math.max(ms, 0), scaleMs) / scaleMs) * (bottom - top);

    // Grid and axis: the top of the scale, its middle, zero.
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const ms of [scaleMs, scaleMs / 2, 0]) {
      const y = ms === 0 ? bottom : Math.round(yOf(ms));
      ctx.fillStyle = ms === 0 ? 'rgba(255, 255, 255, 0.35)' : 'rgba(255, 255, 255, 0.16)';
      ctx.fillRect(0, y, plotW, lineW);
      ctx.fillStyle = 'rgba(232, 232, 232, 0.6)';
      ctx.fillText(fmtAxis(ms), w, ms === 0 ? y - px(2) : y);
    }

    // Frame gaps as a translucent area with a solid top edge.
    ctx.fillStyle = GRAPH_GAP_COLOR;
    for (let c = 0; c < plotW; c++) {
      if (Number.isNaN(gap[c])) continue;
      const y = Math.round(yOf(gap[c]));
      ctx.globalAlpha = 0.3;
      ctx.fillRect(c, y, 1, bottom - y);
      ctx.globalAlpha = 0.9;
      ctx.fillRect(c, y, 1, lineW);
    }
    if (drawOpenGap) {
      // Fainter: it is still growing.
      const from = colOf(graphPrevAt);
      const y = Math.round(yOf(openGap));
      ctx.globalAlpha = 0.15;
      ctx.fillRect(from, y, plotW - from, bottom - y);
      ctx.globalAlpha = 0.6;
      ctx.fillRect(from, y, plotW - from, lineW);
    }
    ctx.globalAlpha = 1;

    // Latency as a line, broken across freezes, with a dark edge so that it
    // stands out from the gaps.
    ctx.beginPath();
    let prevC = null;
    for (let c = 0; c < plotW; c++) {
      if (Number.isNaN(latency[c])) continue;
      const x = c + 0.5;
      const y = yOf(latency[c]);
      if (prevC !== null && (c - prevC) * msPerCol <= GRAPH_LINE_BREAK_MS) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      prevC = c;
    }
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.lineWidth = 3.5 * dpr;
    ctx.stroke();
    ctx.strokeStyle = GRAPH_LATENCY_COLOR;
    ctx.lineWidth = 1.5 * dpr;
    ctx.stroke();

    // Header: the legend with the window's maxima, and the window.
    ctx.font = font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    const baseline = px(10);
    let x = 0;
    const put = (text, color) => {
      ctx.fillStyle = color;
      ctx.fillText(text, x, baseline);
      x += ctx.measureText(text).width;
    };
    put('latency ', GRAPH_LATENCY_COLOR);
    put(maxLatency === null ? '–' : `≤${Math.round(maxLatency)}`, '#e8e8e8');
    put('  gap ', GRAPH_GAP_COLOR);
    put(maxGap === null ? '–' : `≤${Math.round(maxGap)} ms`, '#e8e8e8');
    const span = `last ${GRAPH_WINDOW_MS / 1000} s`;
    if (x + ctx.measureText(`  ${span}`).width <= w) {
      ctx.fillStyle = 'rgba(232, 232, 232, 0.6)';
      ctx.textAlign = 'right';
      ctx.fillText(span, w, baseline);
    }

    window.csGraph.draws += 1;
    window.csGraph.lastDrawMs = round1(performance.now() - t0);
  }

  // -------------------------------------------------------------------- start

  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    video.requestVideoFrameCallback(onVideoFrame);
  } else {
    reportError('requestVideoFrameCallback unsupported: no latency');
  }
  setInterval(() => updateStats(), STATS_INTERVAL_MS);
  setInterval(drawGraph, GRAPH_REDRAW_MS);
  // A WHEP session is a server resource: end it when the page goes, rather
  // than leaving the server to notice the silence.
  window.addEventListener('pagehide', () => {
    if (session && (session.whep || session.janus)) teardown(session);
  });
  connect();
})();
