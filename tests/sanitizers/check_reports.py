#!/usr/bin/env python3
"""Fails (exit 1) when sanitizer log files hold anything but the known
library leaks below; prints what it found. Usage: check_reports.py FILE...

The sanitizer runs write their reports to files (ASAN_OPTIONS=log_path=...)
and keep the process's own exit status (exitcode=0: a leak report alone does
not change it; ASan and UBSan errors still abort). This script is the verdict.

Why a script and not only an LSan suppressions file: LSan names a leak by the
functions on its allocation stack, and here the two that every process with
GStreamer and Mesa has cannot be named:
  - Debian's GLib has no frame pointers, so the fast unwinder (the only one
    quick enough for the server at 30 fps) stops right after g_malloc; the
    slow one names no more than a static function's offset (no debug symbols).
  - Mesa's driver is unloaded (dlclose at eglTerminate) before the check, so
    its frames are "<unknown module>".
A suppression that matched them (leak:g_malloc, leak:libglib-2.0.so) would
hide every leak that passes through g_malloc, ours included. These rules are
narrower: each matches one exact shape, which no allocation made by our code
can have (our code is in the executable, always mapped, with frame pointers,
so it shows on any stack that passes through it).
"""
import re
import sys

ALLOWED = [
    # GLib's quark table. glib's library constructor allocates the first block
    # (2048 pointers = 16 KiB); when GStreamer's types outgrow it, g_quark_new
    # copies it to a bigger one and abandons the old one on purpose (readers
    # may still hold it without a lock). Once per process. Stack: malloc,
    # g_malloc, then only GLib and the loader (or nothing: fast unwinder).
    ("glib quark table",
     lambda kind, size, count, frames: kind == "Direct" and size == 16384 and count == 1
     and len(frames) >= 2 and " in g_malloc " in frames[1]
     and all(re.search(r"libglib-2\.0\.so|ld-linux|dl-init\.c|<unknown module>", f)
             for f in frames[2:])),
    # Mesa's llvmpipe driver (swrast_dri.so) allocates a pair of 56-byte
    # blocks that point at each other (so LSan calls both "indirect") and that
    # only its own globals reach; eglTerminate unloads the driver, and with it
    # those roots (with dlclose made a no-op, LD_PRELOAD, they are not
    # reported at all). Once per EGL display. Stack: calloc and one frame in
    # the unloaded driver, which the symbolizer shows as "<unknown module>" or
    # as whatever library is mapped at that address by the time of the report
    # (libLLVM, libcrypto: same page offsets, 0x...edaf and 0x...edd3). Never
    # a frame of ours. A process that opens several displays (the renderer
    # tests) may see them merged into one report of N objects when the driver
    # came back at the same address each time: N x 56 bytes, same stack (CI,
    # stop 21: 168 bytes in 3 objects).
    ("mesa driver unloaded",
     lambda kind, size, count, frames: kind == "Indirect" and size == 56 * count
     and len(frames) == 2 and "calloc" in frames[0]
     and re.search(r"\((<unknown module>|/usr/lib/|/lib/)", frames[1])),
    # The same driver's array that holds that pair (realloc'd, 128 bytes),
    # reported since issue 13 as a direct leak in e2e_one_viewer,
    # three_viewers and codecs alike (the pair's root moved from the driver's
    # globals to it). Stack: realloc and one frame in the unloaded driver
    # (page offset 0x...fed5 in every report), never a frame of ours. Merged
    # the same way: N x 128 bytes (CI, stop 21: 640 bytes in 5 objects).
    ("mesa driver unloaded (its array)",
     lambda kind, size, count, frames: kind == "Direct" and size == 128 * count
     and len(frames) == 2 and "realloc" in frames[0]
     and re.search(r"\((<unknown module>|/usr/lib/|/lib/)", frames[1])),
]

# OpenSSL's own blocks (libcrypto), seen in about 1 of 3 runs of
# e2e_branch_error (a viewer removed right after an element error): ~1 KB
# direct, ~5-11 KB indirect. Not traced: Debian's libcrypto has no frame
# pointers, so the stack ends at CRYPTO_zalloc/CRYPTO_strndup, and the slow
# unwinder makes the server too slow to connect a viewer. It is allowed only
# in that shape (nothing but libcrypto above malloc), and it cannot hide a
# leak of ours: our code never calls OpenSSL, and what it could leak that
# holds OpenSSL state (a webrtcbin, a DTLS element or connection) is a
# GObject, reported as its own g_malloc leak, which no rule here allows.
ALLOWED.append(
    ("openssl internal (untraced)",
     lambda kind, size, count, frames: len(frames) >= 2
     and re.search(r"in __interceptor_(malloc|calloc|realloc)", frames[0])
     and all("libcrypto.so" in f for f in frames[1:])))

LEAK_HEAD = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)")
FRAME = re.compile(r"^\s+#\d+ ")
ERRORS = re.compile(r"ERROR: (AddressSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer)|"
                    r"runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


def check(path):
    bad = []
    allowed = {}
    lines = open(path, errors="replace").read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if ERRORS.search(line):
            bad.append("\n".join(lines[i:i + 40]))
            i += 1
            continue
        m = LEAK_HEAD.match(line)
        if not m:
            i += 1
            continue
        kind, size, count = m.group(1), int(m.group(2)), int(m.group(3))
        j = i + 1
        frames = []
        while j < len(lines) and FRAME.match(lines[j]):
            frames.append(lines[j])
            j += 1
        name = next((n for n, rule in ALLOWED if rule(kind, size, count, frames)), None)
        if name:
            allowed[name] = allowed.get(name, 0) + 1
        else:
            bad.append("\n".join(lines[i:j]))
        i = j
    return bad, allowed


def main(paths):
    status = 0
    for path in paths:
        bad, allowed = check(path)
        known = ", ".join(f"{n} x{c}" for n, c in allowed.items())
        if bad:
            status = 1
            print(f"{path}: {len(bad)} sanitizer report(s) besides the known library leaks:")
            for b in bad:
                print(b + "\n")
        elif known:
            print(f"{path}: only the known library leaks ({known})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
