#!/usr/bin/env python3
"""Reads /metrics scrapes with prometheus_client's own exposition parser.

  prom.py value FILE 'NAME{label="v"}'   prints that sample's value (or "none")
  prom.py check IDLE STREAMING LATER AFTER
      the checks of tests/e2e/metrics.sh over four scrapes, in order: before
      any viewer, while one streams, later while it streams (a refusal in
      between), after it left. Prints one line per check; exit 1 on the first
      that fails.
"""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


def parse(path):
    """{(sample name, frozenset(labels)): value}, {family name: type}; the parser
    raises on anything the format does not allow."""
    with open(path) as f:
        text = f.read()
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
            types.setdefault(s.name, family.type)
    return samples, types, text


def key(spec):
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?', spec)
    if not m:
        raise SystemExit(f"bad sample spec {spec}")
    labels = {}
    if m.group(2):
        for part in re.findall(r'(\w+)="([^"]*)"', m.group(2)):
            labels[part[0]] = part[1]
    return (m.group(1), frozenset(labels.items()))


def fail(what):
    print(f"FAIL {what}")
    sys.exit(1)


def ok(what):
    print(f"ok {what}")


def check(paths):
    scrapes = [parse(p) for p in paths]
    idle, streaming, later, after = [s[0] for s in scrapes]
    samples, types, text = scrapes[-1]

    # Conventions: cs_ prefix, lower snake case, counters end in _total,
    # histograms in base units (seconds), byte counts say so.
    for name, kind in types.items():
        if not re.fullmatch(r'cs_[a-z0-9_]+', name):
            fail(f"metric name {name}: cs_ prefix, lower snake case")
    for (name, _), _ in samples.items():
        kind = types.get(name)
        if kind == "counter" and not (name.endswith("_total") or name.endswith("_created")):
            fail(f"counter sample {name} does not end in _total")
        if kind == "histogram" and not re.search(r'_seconds_(bucket|sum|count)$', name):
            fail(f"histogram sample {name} is not in seconds")
        if "bytes" in name and not name.endswith("_bytes_total"):
            fail(f"{name}: a byte count ends in _bytes_total")
    for line in text.splitlines():
        if line.startswith("# TYPE") and line.split()[3] == "counter" and \
                not line.split()[2].endswith("_total"):
            fail(f"counter family {line.split()[2]} does not end in _total")
    ok("names follow the conventions (cs_, _total, _seconds, _bytes_total)")

    # Every counter sample is monotonic across the scrapes.
    for (name, labels), last in after.items():
        if types.get(name) not in ("counter", "histogram"):
            continue
        values = [s.get((name, labels)) for s in (idle, streaming, later, after)]
        present = [v for v in values if v is not None]
        if any(b < a for a, b in zip(present, present[1:])):
            fail(f"{name}{dict(labels)} not monotonic: {values}")
    ok("every counter and histogram series is monotonic over four scrapes")

    def v(scrape, spec):
        value = scrape.get(key(spec))
        if value is None:
            fail(f"{spec} missing")
        return value

    for spec in ("cs_frames_rendered_total", "cs_frames_encoded_total", "cs_sent_bytes_total",
                 "cs_sent_packets_total"):
        if not v(streaming, spec) < v(later, spec):
            fail(f"{spec} did not increase while streaming: {v(streaming, spec)} -> {v(later, spec)}")
    # Keyframes are forced when a viewer connects, not steadily.
    for spec in ("cs_frames_rendered_total", "cs_frames_encoded_total", "cs_sent_bytes_total",
                 "cs_sent_packets_total", "cs_keyframes_forced_total"):
        if not v(idle, spec) < v(after, spec):
            fail(f"{spec} did not increase over the run: {v(idle, spec)} -> {v(after, spec)}")
    ok("frames rendered/encoded, bytes/packets sent increased while streaming; keyframes forced "
       f"{int(v(after, 'cs_keyframes_forced_total'))}")
    if not v(streaming, "cs_sent_bytes_total") > 0 or not v(streaming, "cs_sent_packets_total") > 0:
        fail("nothing sent while streaming")
    ok(f"sent {int(v(after, 'cs_sent_bytes_total'))} bytes in "
       f"{int(v(after, 'cs_sent_packets_total'))} packets")
    if v(after, "cs_sent_bytes_total") < v(later, "cs_sent_bytes_total"):
        fail("bytes sent went back after the viewer left")

    if v(idle, "cs_viewers") != 0 or v(streaming, "cs_viewers") != 1 or \
            v(later, "cs_viewers") != 1 or v(after, "cs_viewers") != 0:
        fail("cs_viewers gauge not 0, 1, 1, 0: " + str([v(s, "cs_viewers")
                                                       for s in (idle, streaming, later, after)]))
    ok("cs_viewers: 0 idle, 1 while streaming, 0 after")

    for h in ("cs_render_draw_seconds", "cs_render_read_back_seconds", "cs_encode_seconds",
              "cs_render_to_sent_seconds"):
        count = v(after, f"{h}_count")
        if not count > 0:
            fail(f"{h}_count is {count}")
        buckets = sorted(((float(dict(labels)["le"]), value)
                          for (name, labels), value in after.items() if name == f"{h}_bucket"))
        if len(buckets) < 2 or buckets[-1][0] != float("inf"):
            fail(f"{h}: no +Inf bucket")
        if any(b[1] < a[1] for a, b in zip(buckets, buckets[1:])):
            fail(f"{h}: buckets not cumulative: {buckets}")
        if buckets[-1][1] != count:
            fail(f"{h}: +Inf bucket {buckets[-1][1]} != count {count}")
        if not v(after, f"{h}_sum") > 0:
            fail(f"{h}_sum is not positive")
    ok("four stage histograms: count > 0, cumulative buckets, +Inf = count")

    full = 'cs_viewers_refused_total{reason="server_full"}'
    if v(idle, full) != 0 or not v(after, full) >= 1 or not v(later, full) >= 1:
        fail(f"{full}: {v(idle, full)} idle, {v(later, full)} later")
    ok(f"{full}: 0 idle, {int(v(after, full))} after the second offer")

    if not any(name == "cs_encoder_info" and dict(labels).get("encoder") and value == 1
               for (name, labels), value in after.items()):
        fail("no cs_encoder_info{encoder=...} 1")
    if not any(name == "cs_build_info" and dict(labels).get("version") and
               dict(labels).get("gstreamer", "").startswith("1.") and value == 1
               for (name, labels), value in after.items()):
        fail("no cs_build_info{version=...,gstreamer=...} 1")
    ok("encoder and build info present")
    for spec in ("cs_nacks_received_total", "cs_plis_received_total", "cs_retransmissions_total",
                 "cs_frames_dropped_total", "cs_uptime_seconds"):
        v(after, spec)
    ok("NACK, PLI, retransmission and dropped-frame counters present")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "value":
        value = parse(sys.argv[2])[0].get(key(sys.argv[3]))
        print("none" if value is None else repr(value))
    elif len(sys.argv) == 6 and sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
