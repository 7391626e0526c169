#!/usr/bin/env python3
"""wsprobe: a minimal WebSocket (RFC 6455) and HTTP probe for cube-streamer's
end-to-end tests. Python 3 standard library only.

  wsprobe.py [OPTIONS] http URL
      One GET; prints {"status": 200, "content_type": "...", "length": N,
      "body_start": "first 64 bytes of the body", "body_sha256": "..."}.

  wsprobe.py raw HOST:PORT [SECONDS]
      Sends stdin's bytes as they are (a request no client library would
      normalise), reads until the server closes or SECONDS (default 5) pass;
      prints {"status": N or null, "status_line": "...", "closed": bool,
      "elapsed_ms": N, "bytes": N, "body": "first 200 bytes of the body"}.

  wsprobe.py ws URL STEP...
      Opens a WebSocket (client frames masked), runs the steps in order and
      prints one JSON line per step (the handshake is line 1), so a test can
      check step N with cs_json FILE:N. Exit status 0 when every step's "ok"
      is true, 1 otherwise (the remaining steps still run unless the
      handshake failed).

Options (before the mode): --header "Name: value" (repeatable) adds a request
header (e.g. Origin, Authorization); https:// and wss:// URLs use TLS without
checking the certificate unless --cafile PEM is given; --source ADDR connects
from that local address.

Steps (TEXT may hold any characters; SECONDS default to 2):
  text=TEXT           send TEXT as one text frame
  binary=TEXT         send TEXT's UTF-8 bytes as one binary frame
  hexbinary=HEX       send these bytes as one binary frame
  frag=K:TEXT         send TEXT as a text message split over K frames
                      (first frame opcode 1, FIN=0; then continuation frames)
  big=N               send a text message of exactly N bytes: a well-formed
                      JSON ice message whose candidate is padded with 'a'
  flood=N[:TEXT]      send N text messages TEXT (default {"type":"bogus"}) at once
  paced=N:RATE[:TEXT] send N text messages TEXT at RATE a second
  offer               send a well-formed H.264 recvonly SDP offer (fake ICE
                      credentials and DTLS fingerprint)
  expect=TYPE[:S]     wait up to S s for a message of type TYPE (others are
                      recorded in "skipped"); ok when it came
  silence=TYPE[:S]    ok when no message of type TYPE arrives within S s
  closed[:S]          ok when the server closes the connection within S s
                      (close frame or EOF); the messages before it are kept
  open[:S]            ok when the connection is still open after S s
  sleep=S             just wait (messages are recorded)
  close               send a close frame (1000) and wait briefly for the echo
"""

import base64
import json
import os
import hashlib
import select
import socket
import ssl
import struct
import sys
import time
import urllib.parse

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


EXTRA_HEADERS = []  # "Name: value" lines from --header
CAFILE = None
SOURCE = None  # local address to connect from (--source)


def connect(host, port, scheme, timeout, rcvbuf=None):
    if rcvbuf:
        # Set before connect, so that the window the handshake advertises is small.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        if SOURCE:
            sock.bind((SOURCE, 0))
        sock.connect((host, port))
    else:
        sock = socket.create_connection((host, port), timeout=timeout,
                                        source_address=(SOURCE, 0) if SOURCE else None)
    if scheme in ("https", "wss"):
        if CAFILE:
            ctx = ssl.create_default_context(cafile=CAFILE)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        sock = ctx.wrap_socket(sock, server_hostname=host)
    return sock


def extra_headers():
    return "".join(h + "\r\n" for h in EXTRA_HEADERS)


def now_ms():
    return int(time.monotonic() * 1000)


def split_url(url):
    u = urllib.parse.urlsplit(url)
    port = u.port or (443 if u.scheme in ("https", "wss") else 80)
    return u.hostname, port, (u.path or "/") + ("?" + u.query if u.query else "")


def scheme_of(url):
    return urllib.parse.urlsplit(url).scheme


def http_get(url, timeout=5.0):
    host, port, path = split_url(url)
    sock = connect(host, port, scheme_of(url), timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
                 f"{extra_headers()}\r\n".encode())
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            headers = parse_headers(head)
            length = headers.get("content-length")
            if length is not None and len(body) >= int(length):
                break
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = status_of(head)
    headers = parse_headers(head)
    return {"status": status, "content_type": headers.get("content-type", ""),
            "length": len(body), "body_start": body[:64].decode("utf-8", "replace"),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "www_authenticate": headers.get("www-authenticate")}


def raw_request(hostport, data, timeout):
    host, _, port = hostport.rpartition(":")
    t0 = time.monotonic()
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    got, closed, error = b"", False, None
    try:
        sock.sendall(data)
    except OSError as e:
        error = f"send: {e}"
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = sock.recv(65536)
        except OSError as e:
            closed, error = True, f"recv: {e}"
            break
        if not chunk:
            closed = True
            break
        got += chunk
    sock.close()
    head, _, body = got.partition(b"\r\n\r\n")
    out = {"status": status_of(head) if got else None,
           "status_line": head.split(b"\r\n", 1)[0].decode("latin-1") if got else "",
           "closed": closed, "elapsed_ms": int((time.monotonic() - t0) * 1000),
           "bytes": len(got), "body": body[:200].decode("latin-1")}
    if error:
        out["error"] = error
    return out


def status_of(head):
    try:
        return int(head.split(b"\r\n", 1)[0].split()[1])
    except (IndexError, ValueError):
        return None


def parse_headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return out


class Closed(Exception):
    pass


def encode_frame(opcode, payload, fin=True):
    """One client frame (masked, as RFC 6455 requires of clients)."""
    header = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocket:
    def __init__(self, url, timeout=5.0, rcvbuf=None):
        self.host, self.port, self.path = split_url(url)
        self.sock = connect(self.host, self.port, scheme_of(url), timeout, rcvbuf)
        self.buf = b""
        self.fragments = []
        self.fragment_op = None
        self.closed = False
        self.close_code = None

    def handshake(self, timeout=5.0):
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{extra_headers()}\r\n")
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return {"status": None, "error": "no handshake reply in time"}
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                return {"status": None, "error": f"recv: {e}"}
            if not chunk:
                return {"status": None, "error": "connection closed during handshake",
                        "reply": self.buf.decode("latin-1", "replace")[:200]}
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return {"status": status_of(head), "headers": parse_headers(head),
                "body_start": self.buf[:64].decode("utf-8", "replace")}

    # -- sending ---------------------------------------------------------
    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(encode_frame(opcode, payload, fin))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode())

    def send_fragmented(self, text, parts):
        data = text.encode()
        parts = max(1, min(parts, len(data)))
        size = -(-len(data) // parts)
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        for i, chunk in enumerate(chunks):
            self.send_frame(OP_TEXT if i == 0 else OP_CONT, chunk, fin=(i == len(chunks) - 1))
            time.sleep(0.02)  # separate TCP segments, so the server sees real fragments

    # -- receiving -------------------------------------------------------
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk
        return True

    def _need(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                return False
        return True

    def recv_message(self, deadline):
        """Next complete data message as (opcode, bytes), or None on timeout.
        Raises Closed on a close frame or EOF. Answers pings."""
        while True:
            if not self._need(2, deadline):
                return None
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if not self._need(4, deadline):
                    return None
                n, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if not self._need(10, deadline):
                    return None
                n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            if b1 & 0x80:
                off += 4  # servers must not mask; tolerate it anyway
            if not self._need(off + n, deadline):
                return None
            payload = self.buf[off:off + n]
            if b1 & 0x80:
                mask = self.buf[off - 4:off]
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self.buf = self.buf[off + n:]
            fin, op = bool(b0 & 0x80), b0 & 0x0F
            if op == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = True
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed()
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op in (OP_TEXT, OP_BINARY):
                self.fragment_op, self.fragments = op, [payload]
            else:
                self.fragments.append(payload)
            if fin:
                return self.fragment_op, b"".join(self.fragments)


def decode(op, data):
    text = data.decode("utf-8", "replace")
    try:
        msg = json.loads(text)
    except ValueError:
        msg = None
    return {"binary": op == OP_BINARY, "text": text[:300], "json": msg}


def msg_type(m):
    return m["json"].get("type") if isinstance(m["json"], dict) else None


def fake_offer():
    fp = ":".join(f"{b:02X}" for b in os.urandom(32))
    lines = [
        "v=0", f"o=- {int.from_bytes(os.urandom(6), 'big')} 0 IN IP4 0.0.0.0", "s=-", "t=0 0",
        "a=group:BUNDLE video0", "a=ice-options:trickle",
        "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0",
        "a=setup:actpass", "a=ice-ufrag:wsprobeufrag0", "a=ice-pwd:wsprobepasswordwsprobepassw0",
        "a=rtcp-mux", "a=rtcp-rsize", "a=recvonly", "a=mid:video0",
        "a=rtpmap:96 H264/90000", "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli",
        "a=rtcp-fb:96 ccm fir",
        "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1",
        f"a=fingerprint:sha-256 {fp}",
    ]
    return "\r\n".join(lines) + "\r\n"


def big_message(n):
    head, tail = '{"type":"ice","sdpMLineIndex":0,"candidate":"candidate:', '"}'
    return head + "a" * max(0, n - len(head) - len(tail)) + tail


def seconds(arg, default=2.0):
    return float(arg) if arg else default


def run_ws(url, steps):
    t0 = now_ms()
    try:
        ws = WebSocket(url)
        hs = ws.handshake()
    except OSError as e:
        hs = {"status": None, "error": f"connect: {e}"}
        ws = None
    print(json.dumps({"step": "handshake", "ok": hs.get("status") == 101, **hs}), flush=True)
    if hs.get("status") != 101:
        return 1
    all_ok = True
    for step in steps:
        name, _, arg = step.partition("=")
        if "=" not in step:
            name, _, arg = step.partition(":")
        rec = {"step": name, "ok": True, "t_ms": now_ms() - t0}
        received = []

        def wait(until, want=None):
            """Receive until `until` or a message of type `want`; returns it."""
            while True:
                got = ws.recv_message(until)
                if got is None:
                    return None
                m = decode(*got)
                if want is not None and msg_type(m) == want:
                    return m
                received.append(m)

        try:
            if ws.closed and name not in ("closed",):
                raise Closed()
            if name == "text":
                ws.send_text(arg)
            elif name == "binary":
                ws.send_frame(OP_BINARY, arg.encode())
            elif name == "hexbinary":
                ws.send_frame(OP_BINARY, bytes.fromhex(arg))
            elif name == "frag":
                k, _, text = arg.partition(":")
                ws.send_fragmented(text, int(k))
            elif name == "big":
                ws.send_text(big_message(int(arg)))
                rec["bytes"] = int(arg)
            elif name in ("flood", "paced"):
                if name == "flood":
                    count, _, text = arg.partition(":")
                    rate = None
                else:
                    count, _, rest = arg.partition(":")
                    rate, _, text = rest.partition(":")
                    rate = float(rate)
                text = text or '{"type":"bogus"}'
                sent = 0
                start = time.monotonic()
                for i in range(int(count)):
                    if rate:
                        time.sleep(max(0.0, start + i / rate - time.monotonic()))
                    try:
                        ws.send_text(text)
                        sent += 1
                        # Read what came meanwhile (errors), so that neither
                        # side's buffers fill; a close from the server ends
                        # the flood (the step is still ok: it sent what it could).
                        wait(time.monotonic() + 0.001)
                    except (Closed, OSError):
                        ws.closed = True
                        break
                rec.update(sent=sent)
            elif name == "offer":
                ws.send_text(json.dumps({"type": "offer", "sdp": fake_offer()}))
            elif name == "expect":
                want, _, secs = arg.partition(":")
                start = time.monotonic()
                m = wait(start + seconds(secs), want)
                rec.update(want=want, ok=m is not None, msg=m and m["json"],
                           elapsed_ms=int((time.monotonic() - start) * 1000))
            elif name == "silence":
                want, _, secs = arg.partition(":")
                m = wait(time.monotonic() + seconds(secs), want)
                rec.update(want=want, ok=m is None, msg=m and m["json"])
            elif name == "closed":
                start = time.monotonic()
                if not ws.closed:
                    wait(start + seconds(arg))
                rec.update(ok=ws.closed)
            elif name == "open":
                wait(time.monotonic() + seconds(arg))
                rec.update(ok=not ws.closed)
            elif name == "sleep":
                wait(time.monotonic() + seconds(arg, 1.0))
            elif name == "close":
                ws.send_frame(OP_CLOSE, struct.pack("!H", 1000))
                try:
                    wait(time.monotonic() + 2)
                except Closed:
                    pass
            else:
                rec.update(ok=False, error=f"unknown step {step!r}")
        except Closed:
            if name == "closed":
                rec.update(ok=True, elapsed_ms=int((time.monotonic() - start) * 1000))
            else:
                rec.update(ok=False, error="connection closed by the server")
        except OSError as e:
            rec.update(ok=False, error=f"socket: {e}")
        rec["closed"] = ws.closed
        rec["close_code"] = ws.close_code
        if received:
            rec["skipped" if name in ("expect", "silence") else "messages"] = [
                r["json"] if r["json"] is not None else r["text"] for r in received]
        all_ok = all_ok and rec["ok"]
        print(json.dumps(rec), flush=True)
    try:
        ws.sock.close()
    except OSError:
        pass
    return 0 if all_ok else 1


def main(argv):
    global CAFILE, SOURCE
    argv = list(argv)
    while len(argv) > 2 and argv[1] in ("--header", "--cafile", "--source"):
        if argv[1] == "--header":
            EXTRA_HEADERS.append(argv[2])
        elif argv[1] == "--source":
            SOURCE = argv[2]
        else:
            CAFILE = argv[2]
        del argv[1:3]
    if len(argv) < 3 or argv[1] not in ("http", "ws", "raw"):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "raw":
        secs = float(argv[3]) if len(argv) > 3 else 5.0
        try:
            print(json.dumps(raw_request(argv[2], sys.stdin.buffer.read(), secs)), flush=True)
        except OSError as e:
            print(json.dumps({"status": None, "error": str(e)}), flush=True)
            return 1
        return 0
    if argv[1] == "http":
        try:
            print(json.dumps(http_get(argv[2])), flush=True)
        except OSError as e:
            print(json.dumps({"status": None, "error": str(e)}), flush=True)
            return 1
        return 0
    return run_ws(argv[2], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
