'use strict';

// cube-streamer viewer: receives one H.264 video track over WebRTC, measures
// glass-to-glass latency from the timecode strip (see SPEC.md) and reconnects
// by itself. window.csStats / window.csFrameLog are read by tests.
(() => {
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const STATS_INTERVAL_MS = 1000;
  const P50_WINDOW_MS = 2000;
  const FRAME_LOG_CAP = 20000;
  const ERRORS_CAP = 50;
  const TWO_32 = 2 ** 32;
  const STRIP_BLOCKS = 32;
  const STRIP_ROW_DIVISOR = 24;
  // A decoded latency beyond this is not a timecode (e.g. CS_TIMECODE=0).
  const MAX_PLAUSIBLE_LATENCY_MS = 60000;
  // A frame-number jump beyond this is a server restart, not loss.
  const MAX_PLAUSIBLE_GAP = 1000;

  const video = document.getElementById('video');
  const overlay = document.getElementById('overlay');

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
  };
  window.csStats = stats;
  window.csFrameLog = [];
  window.csResetLog = () => {
    window.csFrameLog.length = 0;
  };

  let session = null;
  let backoffMs = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let recentLatencies = []; // {at, latencyMs} for the p50 window
  let lastPresentedFrames = null; // metadata.presentedFrames of the previous callback
  let fpsCounter = { frames: 0, at: performance.now() };
  let bitrateCounter = { bytes: null, at: 0 };

  // ---------------------------------------------------------------- signaling

  function wsUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws`;
  }

  function connect() {
    reconnectTimer = null;
    const s = {
      ws: new WebSocket(wsUrl()),
      pc: null,
      closed: false,
      sentEndOfCandidates: false,
      pendingRemoteIce: [],
    };
    session = s;
    setState('connecting');
    s.ws.onopen = () => startPeer(s).catch((e) => fail(s, `offer: ${e.message || e}`));
    s.ws.onmessage = (ev) => onSignal(s, ev.data).catch((e) => reportError(`signal: ${e.message || e}`));
    s.ws.onclose = () => fail(s, null);
    s.ws.onerror = () => reportError('websocket error');
  }

  function send(s, msg) {
    if (s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg));
  }

  async function startPeer(s) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
    s.pc = pc;
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    preferH264(transceiver);
    setLowLatency(transceiver.receiver);

    pc.ontrack = (ev) => attachStream(ev.streams[0] || new MediaStream([ev.track]));
    pc.onicecandidate = (ev) => sendCandidate(s, ev.candidate);
    pc.onconnectionstatechange = () => onConnectionState(s);

    setState('signaling');
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send(s, { type: 'offer', sdp: offer.sdp });
  }

  function sendCandidate(s, c) {
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
    } else if (msg.type === 'error') {
      reportError(`server: ${msg.message}`);
    }
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

  function teardown(s) {
    s.closed = true;
    s.ws.onopen = s.ws.onmessage = s.ws.onclose = s.ws.onerror = null;
    try { s.ws.close(); } catch (_) { /* already closed */ }
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

  // Returns {renderMs, frame} or null when the frame has no usable strip.
  function decodeTimecode() {
    const w = video.videoWidth;
    const h = video.videoHeight;
    const blockW = Math.floor(w / STRIP_BLOCKS);
    const rowH = Math.floor(h / STRIP_ROW_DIVISOR);
    if (blockW < 1 || rowH < 1) return null;
    const stripW = blockW * STRIP_BLOCKS;
    const stripH = rowH * 2;
    if (strip.width !== stripW || strip.height !== stripH) {
      strip.width = stripW;
      strip.height = stripH;
    }
    stripCtx.drawImage(video, 0, 0, stripW, stripH, 0, 0, stripW, stripH);
    const pixels = stripCtx.getImageData(0, 0, stripW, stripH).data;
    return {
      renderMs: readRow(pixels, stripW, blockW, rowH, 0),
      frame: readRow(pixels, stripW, blockW, rowH, 1),
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
    const tc = decodeTimecode();
    if (!tc) return;
    const latencyMs = diffMod32(presentedMs % TWO_32, tc.renderMs);
    if (Math.abs(latencyMs) > MAX_PLAUSIBLE_LATENCY_MS) return;

    countLostFrames(tc.frame, metadata.presentedFrames);
    stats.lastFrameNumber = tc.frame;
    stats.latencyMs = latencyMs;
    recentLatencies.push({ at: presentedMs, latencyMs });
    // Also to the moment the frame was handed to the compositor: the part of
    // the latency that is not the browser's own display pipeline.
    const submittedMs = performance.timeOrigin + metadata.presentationTime;
    const toCompositorMs = diffMod32(submittedMs % TWO_32, tc.renderMs);
    stats.toCompositorMs = toCompositorMs;
    logFrame({ frame: tc.frame, renderMs: tc.renderMs, presentedMs, latencyMs, toCompositorMs });
  }

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
    renderOverlay();
  }

  function recentP50() {
    const cutoff = performance.timeOrigin + performance.now() - P50_WINDOW_MS;
    recentLatencies = recentLatencies.filter((r) => r.at >= cutoff);
    if (recentLatencies.length === 0) return null;
    const sorted = recentLatencies.map((r) => r.latencyMs).sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  async function readBitrateKbps() {
    const pc = session && session.pc;
    if (!pc) {
      bitrateCounter = { bytes: null, at: 0 };
      return 0;
    }
    const report = await pc.getStats().catch(() => null);
    let bytes = null;
    if (report) {
      report.forEach((r) => {
        if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
        bytes = r.bytesReceived;
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
    bitrateCounter = { bytes, at: now };
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

  function renderOverlay() {
    const lines = [
      stats.state,
      `${stats.fps.toFixed(1)} fps  ${stats.bitrateKbps} kbps`,
      `${stats.width}x${stats.height}`,
      // Chrome's expected display time can sit a whole display interval
      // from the actual draw (bench/README.md); the compositor hand-off is
      // the part the stream controls.
      `latency ${fmtMs(stats.latencyMs)} (p50 ${fmtMs(stats.latencyP50Ms)})`,
      `to compositor ${fmtMs(stats.toCompositorMs)}`,
      `lost ${stats.framesLost}  reconnects ${stats.reconnects}`,
      `sent: NACK ${stats.receiver?.nackCount ?? 0}  PLI ${stats.receiver?.pliCount ?? 0}`,
    ];
    const lastError = stats.errors[stats.errors.length - 1];
    if (lastError) lines.push(`error: ${lastError}`);
    overlay.textContent = lines.join('\n');
  }

  // -------------------------------------------------------------------- start

  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    video.requestVideoFrameCallback(onVideoFrame);
  } else {
    reportError('requestVideoFrameCallback unsupported: no latency');
  }
  setInterval(() => updateStats(), STATS_INTERVAL_MS);
  connect();
})();
