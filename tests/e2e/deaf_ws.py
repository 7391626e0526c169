#!/usr/bin/env python3
"""deaf_ws: a signaling client that stops reading its socket, for the
back-pressure half of stuck_viewer.sh. Python 3 standard library only.

  deaf_ws.py URL DEAF_SECONDS [RATE_PER_S]

Connects with a small receive buffer (set before connect, so the window it
advertises stays small), reads the upgrade reply, sends an H.264 offer (fake
ICE credentials: its media never connects) and then, for DEAF_SECONDS, reads
NOTHING while it keeps sending messages the server answers with an `error`
(an unknown type, RATE_PER_S a second: under the server's flood limit). The
answers, and the server's pings, pile up in the client's receive buffer and
then in the server's send buffer. Afterwards it reads what it can for up to
5 s and prints one JSON line: how many it sent, how many errors and pings
arrived, and whether the server closed the connection (close frame, EOF or
reset) -- a server that never gives up on a deaf socket leaves it open.
"""

import json
import select
import socket
import struct
import sys
import time

import wsprobe  # tests/e2e: the same frames, offer and handshake as the other probes

RCVBUF = 1024  # the kernel makes it its minimum, about 2 KB


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    url, deaf_s = argv[1], float(argv[2])
    rate = float(argv[3]) if len(argv) > 3 else 10.0
    ws = wsprobe.WebSocket(url, rcvbuf=RCVBUF)
    reply = ws.handshake()
    if reply["status"] != 101:
        print(json.dumps({"ok": False, "error": reply.get("error") or reply}), flush=True)
        return 1
    sock, buf = ws.sock, ws.buf
    ws.send_text(json.dumps({"type": "offer", "sdp": wsprobe.fake_offer()}))
    print(json.dumps({"step": "deaf", "port": sock.getsockname()[1],
                      "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)}),
          flush=True)

    # Deaf: send, never read.
    sent, send_error = 0, None
    junk = wsprobe.encode_frame(wsprobe.OP_TEXT, json.dumps({"type": "x" * 32}).encode())
    t0 = time.monotonic()
    while time.monotonic() - t0 < deaf_s:
        try:
            sock.sendall(junk)
            sent += 1
        except OSError as e:  # the server closed (reset) while we were deaf
            send_error = str(e)
            break
        time.sleep(1.0 / rate)

    # Now read what came: errors, pings, and the end of the connection.
    data, closed, how = buf, False, None
    deadline = time.monotonic() + 5
    sock.setblocking(False)
    while time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], deadline - time.monotonic())
        if not r:
            break
        try:
            chunk = sock.recv(65536)
        except OSError as e:
            closed, how = True, f"recv: {e}"
            break
        if not chunk:
            closed, how = True, "EOF"
            break
        data += chunk
    errors = pings = 0
    off = 0
    while off + 2 <= len(data):
        b0, b1 = data[off], data[off + 1]
        n, hdr = b1 & 0x7F, 2
        if n == 126:
            n, hdr = struct.unpack("!H", data[off + 2:off + 4])[0], 4
        elif n == 127:
            n, hdr = struct.unpack("!Q", data[off + 2:off + 10])[0], 10
        if off + hdr + n > len(data):
            break
        op, payload = b0 & 0x0F, data[off + hdr:off + hdr + n]
        if op == 0x9:
            pings += 1
        elif op == 0x8:
            closed, how = True, how or "close frame"
        elif op == 0x1 and b'"error"' in payload:
            errors += 1
        off += hdr + n
    print(json.dumps({"step": "report", "sent": sent, "send_error": send_error,
                      "errors_received": errors, "pings_received": pings,
                      "bytes_received": len(data), "closed_by_server": closed, "how": how}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
