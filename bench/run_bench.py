#!/usr/bin/env python3
"""Benchmark of cube-streamer against the seed design (--baseline).

Starts the real server inside a private network namespace (a veth pair with
both ends inside it; nothing leaves the machine) and measures, per resolution
and per design:

  * glass-to-glass latency in headless Chromium: render time to the frame drawn by its
    display compositor, read from the screencast's pixels (tests/browser/page_test.mjs);
  * whole-process server CPU (% of one core) and RSS, from /proc/PID/{stat,status};
  * the server's own per-stage times (GET /stats);
  * viewer scaling with native no-decode viewers (cs-test-viewer --no-decode);
  * CPU with no viewer connected;
  * with --loss: presented fps, longest freeze, glass-to-glass, NACKs and PLIs through UDP
    loss, ours beside the libwebrtc reference (Chromium sending a canvas to itself,
    tests/browser/reference_test.mjs).

Prints a table and writes a JSON file with every figure (see bench/README.md), and PNG charts
beside it (bench/charts.py, when matplotlib is there). Python 3 standard library otherwise;
runs as root (ip netns).

  bench/run_bench.py                 # full run (~11 min on 2 cores)
  bench/run_bench.py --quick         # CI smoke test: exits 1 only on breakage
  bench/run_bench.py --soak 10       # RSS over 10 minutes with 10 viewers
  bench/run_bench.py --loss 1,5,10   # loss only (~10 min)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Optional

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"
PAGE_TEST = REPO / "tests" / "browser" / "page_test.mjs"
REFERENCE_TEST = REPO / "tests" / "browser" / "reference_test.mjs"
# 2: latency_* became render -> drawn (screencast pixels); schema 1 had
# Chrome's expectedDisplayTime there (now expected_display_*).
SCHEMA = 2
PORT = 8080
FPS = 30
SKIPPED = 77   # ctest SKIP_RETURN_CODE, as in tests/e2e
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_PERIOD_S = 0.5
STAGES = ("draw", "read_back", "convert", "encode", "render_to_encoded", "render_to_send")
DESIGNS = ("ours", "baseline")
RECEIVING_MARK = "media pad added, receiving"
SOAK_WARMUP_S = 30.0   # sampled and kept in the series, but not in first/last/min/max/drift
SERVER_START_TIMEOUT_S = 30
LOSS_HOOKS = ("input", "output")
QUICK_LOSS_LEVELS = [5]   # --quick: one 3 s run of the libwebrtc reference at 5 % loss (~11 s)
BROWSER_CONNECT_TIMEOUT_S = 60


def stop_process(proc: subprocess.Popen, sig: int, timeout_s: float) -> bool:
    """Asks a child to stop with `sig`; kills it after `timeout_s`. True if it stopped by itself."""
    if proc.poll() is not None:
        return True
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


@dataclass
class Profile:
    """How long and how much to measure."""

    name: str
    resolutions: list[tuple[int, int]]
    repeats: int
    browser_seconds: float
    viewer_counts: list[int]
    baseline_max_viewers: int
    scaling_resolutions: list[tuple[int, int]]
    warmup_s: float
    window_s: float
    idle_s: float
    ready_timeout_s: float
    loss_levels: list[int] = field(default_factory=list)   # UDP loss %, one step each
    loss_repeats: int = 0
    loss_seconds: float = 0.0
    loss_hook: str = "input"
    loss_designs: list[str] = field(default_factory=lambda: ["ours", "libwebrtc"])
    # Issue 13's sections (run_sections): which, and their sizes.
    sections: list[str] = field(default_factory=list)
    rung_viewers: list[int] = field(default_factory=lambda: [3, 25])  # spread over rungs 0/1/2
    hd60_viewers: int = 10         # at 1920x1080@60, one of them decoding
    hd60_with_30: bool = True      # 720p30 browser runs beside the 720p60 ones


def parse_loss_levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--loss wants whole percentages like 1,5,10, got {text!r}")
    if not levels or any(not 0 <= x <= 99 for x in levels):
        raise argparse.ArgumentTypeError(f"--loss wants percentages 0..99, got {text!r}")
    return levels


def parse_loss_designs(text: str) -> list[str]:
    designs = [d.strip() for d in text.split(",") if d.strip()]
    if not designs or any(d not in ("ours", "libwebrtc") for d in designs):
        raise argparse.ArgumentTypeError(f"--loss-designs wants ours, libwebrtc or both, got {text!r}")
    return designs


def parse_server_env(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", text):
        raise argparse.ArgumentTypeError(f"--server-env wants VAR=VALUE, got {text!r}")
    return text


def make_profile(args: argparse.Namespace) -> Profile:
    if args.loss:
        return Profile("loss", [], 0, 0, [], 0, [], 0.0, 0.0, 0.0, 0, args.loss, args.repeats,
                       args.browser_seconds, args.loss_hook, args.loss_designs)
    picked = [name for name in SECTIONS if getattr(args, name)]
    if args.quick:
        # Each issue-13 section once, short: 1 + 1 + 1 and 2 + 2 + 2 pinned viewers, 1080p60
        # to 3, one 4 s run of each browser set-up (720p30 is the main run's).
        prof = Profile("quick", [(1280, 720)], 1, 4, [1, 3], 3, [(1280, 720)], 1.0, 5.0, 2.0, 30,
                       QUICK_LOSS_LEVELS, 1, 3, args.loss_hook, ["libwebrtc"],
                       picked or list(SECTIONS), [3, 6], 3, False)
        if picked:   # --quick with a section flag: that section only, short
            prof.resolutions, prof.loss_levels = [], []
        return prof
    res = [(1280, 720), (1920, 1080)]
    prof = Profile("full", res, args.repeats, args.browser_seconds, [1, 10, 25],
                   args.baseline_max_viewers, res[:1] if args.no_scaling_1080p else res,
                   3.0, args.window, 5.0, 45, sections=picked or list(SECTIONS))
    if picked:       # a section flag: only the sections named
        prof.name, prof.resolutions = "sections", []
    return prof


# ----------------------------------------------------------------- small helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(values: list[float]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values: list[float]) -> Optional[list[float]]:
    values = [v for v in values if v is not None]
    return [min(values), max(values)] if values else None


def ratio(ours: Optional[float], base: Optional[float]) -> Optional[float]:
    if ours is None or base is None or base == 0:
        return None
    return ours / base


def res_name(res: tuple[int, int]) -> str:
    return f"{res[0]}x{res[1]}"


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# ----------------------------------------------------------- process sampling


@dataclass
class ProcSample:
    t: float          # time.monotonic()
    ticks: int        # utime + stime, clock ticks
    rss_kb: int


@dataclass
class ProcWindow:
    """Server cost over one measured window."""

    seconds: float
    cpu_pct: float            # average, % of one core
    cpu_peak_pct: float       # highest over SAMPLE_PERIOD_S intervals
    rss_peak_mb: float        # highest sample
    rss_steady_mb: float      # median of the second half of the samples
    samples: int


def read_proc(pid: int) -> Optional[ProcSample]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])   # utime, stime (fields 14, 15)
    m = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
    rss_kb = int(m.group(1)) if m else int(fields[21]) * PAGE_SIZE_KB
    return ProcSample(time.monotonic(), ticks, rss_kb)


class ProcSampler:
    """Samples one process every SAMPLE_PERIOD_S in a background thread."""

    def __init__(self, pid: int, period_s: float = SAMPLE_PERIOD_S):
        self.pid = pid
        self.period_s = period_s
        self.samples: list[ProcSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "ProcSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.period_s)

    def sample(self) -> Optional[ProcSample]:
        s = read_proc(self.pid)
        if s:
            with self._lock:
                self.samples.append(s)
        return s

    def between(self, t0: float, t1: float) -> list[ProcSample]:
        with self._lock:
            return [s for s in self.samples if t0 <= s.t <= t1]

    def window(self, t0: float, t1: float) -> Optional[ProcWindow]:
        return summarise_samples(self.between(t0, t1))


def summarise_samples(samples: list[ProcSample]) -> Optional[ProcWindow]:
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    seconds = last.t - first.t
    cpu = 100.0 * (last.ticks - first.ticks) / CLK_TCK / seconds
    peaks = [100.0 * (b.ticks - a.ticks) / CLK_TCK / (b.t - a.t)
             for a, b in zip(samples, samples[1:]) if b.t > a.t]
    rss = [s.rss_kb / 1024.0 for s in samples]
    return ProcWindow(round(seconds, 2), round(cpu, 1), round(max(peaks), 1),
                      round(max(rss), 1), round(statistics.median(rss[len(rss) // 2:]), 1),
                      len(samples))


# ---------------------------------------------------------- network namespace


class Namespace:
    """A private network namespace with a veth pair, both ends inside it."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.name = f"csbench{pid}"
        net = pid % 250 + 1
        self.server_ip = f"10.79.{net}.1"
        self.client_ip = f"10.79.{net}.2"
        self.created = False
        self.guarded = False

    def __enter__(self) -> "Namespace":
        ip = ["ip", "-n", self.name]
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.created = True
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", "csv0", "type", "veth", "peer", "name", "csv1"],
                    ["addr", "add", f"{self.server_ip}/24", "dev", "csv0"],
                    ["addr", "add", f"{self.client_ip}/24", "dev", "csv1"],
                    ["link", "set", "csv0", "up"],
                    ["link", "set", "csv1", "up"]):
            subprocess.run(ip + cmd, check=True)
        return self

    def __exit__(self, *exc) -> None:
        self.delete()

    def delete(self) -> None:
        if not self.created:
            return
        # Anything still running in it was started by this benchmark.
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        self.created = False

    def cmd(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    @property
    def subnet(self) -> str:
        return self.server_ip.rsplit(".", 1)[0] + ".0/24"

    def nft(self, ruleset: str) -> None:
        r = subprocess.run(self.cmd("nft", "-f", "-"), input=ruleset, text=True,
                           capture_output=True)
        if r.returncode != 0:
            raise BrokenRun(f"nft refused a ruleset ({r.stderr.strip()[-300:]}):\n{ruleset}")

    def add_default_route(self) -> None:
        """A default route, for the libwebrtc reference (TRAPS.md: Chromium picks its host address
        by a route lookup, and two peers in one page gather nothing without one). First an
        output rule that drops every packet not addressed to this namespace's range or to
        127.0.0.0/8, and all IPv6, so that nothing can leave even by that route."""
        if self.guarded:
            return
        self.nft(f"""table inet guard {{
  chain out {{
    type filter hook output priority -10; policy accept;
    meta nfproto ipv6 counter drop comment "ipv6"
    ip daddr != {{ {self.subnet}, 127.0.0.0/8 }} counter drop comment "outside"
  }}
}}
""")
        self.guarded = True
        subprocess.run(["ip", "-n", self.name, "route", "add", "default", "dev", "csv0"],
                       check=True)

    def set_loss(self, pct: int, hook: str = "input") -> None:
        """Drops pct % of the UDP packets of this namespace; counters start from 0. Both veth
        ends are in it, so a packet between them is local traffic (routed over lo) and passes
        the output hook once and the input hook once: pct % each way with either hook. On
        `input` (the default) the sender cannot tell; on `output` (run_page_test.sh's rule)
        its sendmsg() fails with EPERM, and Chromium's UDP socket then sends the same packet
        once more, so what Chromium sends loses only about (pct/100)^2 (bench/README.md)."""
        assert hook in LOSS_HOOKS
        subprocess.run(self.cmd("nft", "delete", "table", "inet", "loss"), capture_output=True)
        drop = (f'    meta l4proto udp numgen random mod 100 < {pct} counter drop comment "dropped"\n'
                if pct > 0 else "")
        dev = "iifname" if hook == "input" else "oifname"
        self.nft('table inet loss {\n  chain filter {\n'
                 f'    type filter hook {hook} priority 0; policy accept;\n'
                 '    meta l4proto udp counter comment "udp"\n'
                 f'    meta l4proto udp {dev} "lo" counter comment "udp_lo"\n'
                 f'{drop}  }}\n}}\n')

    def loss_counters(self) -> dict[str, int]:
        """Packets counted by set_loss's rules since it was called: udp (every UDP packet sent),
        udp_lo (those routed over lo), dropped."""
        return self.counters("loss", ("udp", "udp_lo", "dropped"))

    def guard_counters(self) -> dict[str, int]:
        """Packets the guard of add_default_route kept in: ipv6, outside (IPv4 elsewhere)."""
        return self.counters("guard", ("ipv6", "outside"))

    def counters(self, table: str, names: tuple[str, ...]) -> dict[str, int]:
        """Packet counts of the rules of `inet TABLE` whose comments are `names`."""
        r = subprocess.run(self.cmd("nft", "-j", "list", "table", "inet", table),
                           capture_output=True, text=True)
        counts = {name: 0 for name in names}
        try:
            items = json.loads(r.stdout).get("nftables", [])
        except json.JSONDecodeError:
            return counts
        for item in items:
            rule = item.get("rule")
            if not rule or rule.get("comment") not in counts:
                continue
            for e in rule.get("expr", []):
                if "counter" in e:
                    counts[rule["comment"]] = e["counter"].get("packets", 0)
        return counts

    def popen(self, argv: list[str], out: Path, err: Path) -> subprocess.Popen:
        with open(out, "wb") as o, open(err, "wb") as e:
            return subprocess.Popen(self.cmd(*argv), stdout=o, stderr=e, stdin=subprocess.DEVNULL)

    @property
    def base_url(self) -> str:
        return f"http://{self.server_ip}:{PORT}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.server_ip}:{PORT}/ws"

    def get_stats(self) -> Optional[dict]:
        r = subprocess.run(self.cmd("curl", "-sf", "--max-time", "3", f"{self.base_url}/stats"),
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            return None


# ------------------------------------------------------------------- server


class BrokenRun(Exception):
    """Something that must fail the smoke test (not a timing)."""


@dataclass
class Tools:
    server: Path
    viewer: Path
    logs: Path
    server_env: list[str] = field(default_factory=list)   # --server-env VAR=VALUE, every server


class Server:
    """One cube-streamer process inside the namespace."""

    def __init__(self, ns: Namespace, tools: Tools, design: str, res: tuple[int, int],
                 fps: int = FPS):
        self.ns, self.tools, self.design, self.res, self.fps = ns, tools, design, res, fps
        tag = f"server-{design}-{res_name(res)}-{fps}-{int(time.time())}"
        self.log_path = tools.logs / f"{tag}.log"
        # CS_MAX_PER_IP=0: every scaling viewer (up to 25) comes from the one
        # namespace address, past the default limit of 8 WebSockets per address.
        env = [f"CS_HOST={ns.server_ip}", f"CS_PORT={PORT}", f"CS_ICE_ADDRESSES={ns.server_ip}",
               f"CS_WIDTH={res[0]}", f"CS_HEIGHT={res[1]}", f"CS_FPS={fps}", "CS_MAX_PER_IP=0",
               *tools.server_env]
        argv = ["env", *env, str(tools.server)] + (["--baseline"] if design == "baseline" else [])
        self.proc = ns.popen(argv, self.log_path, self.log_path)
        self.pid = self.proc.pid
        self.exit_code: Optional[int] = None
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.check_alive("starting")
            if self.ns.get_stats() is not None:
                return
            time.sleep(0.2)
        raise BrokenRun(f"server ({self.design}) did not answer /stats within "
                        f"{SERVER_START_TIMEOUT_S} s; log {self.log_path}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self, when: str) -> None:
        if not self.alive():
            raise BrokenRun(f"server ({self.design} {res_name(self.res)}) died while {when} "
                            f"(exit {self.proc.returncode}); log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> int:
        if self.alive() and not stop_process(self.proc, signal.SIGTERM, 10):
            log(f"server ({self.design}) still running 10 s after SIGTERM: killed")
        self.exit_code = self.proc.returncode
        return self.exit_code


# ------------------------------------------------------------- measurements


@dataclass
class StageMedians:
    """Medians (ms) of the server's own per-stage times, from GET /stats."""

    draw: Optional[float] = None
    read_back: Optional[float] = None
    convert: Optional[float] = None
    encode: Optional[float] = None
    render_to_encoded: Optional[float] = None
    render_to_send: Optional[float] = None
    frames_rendered: Optional[int] = None
    frames_encoded: Optional[int] = None
    frames_late: Optional[int] = None
    encoder: Optional[str] = None


def stage_medians(stats: Optional[dict]) -> StageMedians:
    if not stats:
        return StageMedians()
    stages = stats.get("stages_ms", {})
    medians = {k: (round(stages[k]["p50"], 2) if stages.get(k, {}).get("count") else None)
               for k in STAGES}
    return StageMedians(**medians, frames_rendered=stats.get("frames_rendered"),
                        frames_encoded=stats.get("frames_encoded"),
                        frames_late=stats.get("frames_late"), encoder=stats.get("encoder"))


def late_pct(before: Optional[dict], after: Optional[dict]) -> Optional[float]:
    """Share of the frames rendered between two /stats snapshots that were late."""
    if not before or not after:
        return None
    rendered = after.get("frames_rendered", 0) - before.get("frames_rendered", 0)
    late = after.get("frames_late", 0) - before.get("frames_late", 0)
    return round(100.0 * late / rendered, 1) if rendered > 0 else None


def render_fps(before: Optional[dict], after: Optional[dict], seconds: float) -> Optional[float]:
    if not before or not after or seconds <= 0:
        return None
    return round((after.get("frames_rendered", 0) - before.get("frames_rendered", 0)) / seconds, 1)


@dataclass
class IdleRun:
    """CPU with no viewer connected."""

    when: str
    proc: Optional[ProcWindow]


@dataclass
class BrowserRun:
    """One headless-Chromium latency run (one viewer: the browser)."""

    ok: bool
    # Glass-to-glass: render time -> the frame drawn by Chrome's display
    # compositor, read from the screencast's pixels (page_test --screencast).
    latency_p50_ms: Optional[float] = None
    latency_p95_ms: Optional[float] = None
    latency_p99_ms: Optional[float] = None
    latency_max_ms: Optional[float] = None
    presented_fps: Optional[float] = None
    frames_lost: Optional[int] = None
    frames: Optional[int] = None
    proc: Optional[ProcWindow] = None
    stages: StageMedians = field(default_factory=StageMedians)
    late_pct: Optional[float] = None   # rendered frames that missed their tick, in the run
    error: Optional[str] = None
    page: Optional[dict] = None


@dataclass
class ScalingStep:
    """N native no-decode viewers at once."""

    viewers: int
    ready: int = 0
    fps: list[float] = field(default_factory=list)
    fps_min: Optional[float] = None
    fps_median: Optional[float] = None
    max_gap_ms: Optional[int] = None
    frames_total: int = 0
    proc: Optional[ProcWindow] = None
    stages: StageMedians = field(default_factory=StageMedians)
    late_pct: Optional[float] = None   # rendered frames that missed their tick, in the window
    render_fps: Optional[float] = None  # frames the server rendered per second, in the window
    not_run: Optional[str] = None


@dataclass
class DesignResult:
    design: str
    resolution: str
    idle: list[IdleRun] = field(default_factory=list)
    browser: list[BrowserRun] = field(default_factory=list)
    browser_summary: dict = field(default_factory=dict)
    # The same page signalling over WHEP (?transport=whep), ours only.
    browser_whep: list[BrowserRun] = field(default_factory=list)
    browser_whep_summary: dict = field(default_factory=dict)
    scaling: list[ScalingStep] = field(default_factory=list)
    server_exit_code: Optional[int] = None


@dataclass
class SoakResult:
    minutes: float
    viewers: int
    resolution: str
    period_s: float
    warmup_s: float = SOAK_WARMUP_S
    rss_mb: list[list[float]] = field(default_factory=list)   # [seconds since start, MB]
    first_mb: Optional[float] = None
    last_mb: Optional[float] = None
    min_mb: Optional[float] = None
    max_mb: Optional[float] = None
    drift_mb: Optional[float] = None          # last - first
    max_minus_min_mb: Optional[float] = None
    slope_mb_per_min: Optional[float] = None  # least squares
    cpu_pct: Optional[float] = None
    viewer_fps_min: Optional[float] = None
    meets_100mb: Optional[bool] = None
    flat_5mb: Optional[bool] = None


def measure_idle(server: Server, sampler: ProcSampler, seconds: float, when: str) -> IdleRun:
    time.sleep(1.0)   # let the last viewer's teardown settle
    t0 = time.monotonic()
    sampler.sample()
    time.sleep(seconds)
    sampler.sample()
    server.check_alive(f"idle ({when})")
    run = IdleRun(when, sampler.window(t0, time.monotonic()))
    log(f"  idle {when}: CPU {run.proc.cpu_pct if run.proc else '?'} %")
    return run


def wait_for(pred: Callable[[], bool], timeout_s: float, period_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(period_s)
    return pred()


def last_json_line(path: Path) -> Optional[dict]:
    try:
        lines = [l for l in path.read_text(errors="replace").splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, json.JSONDecodeError):
        return None


def browser_run(server: Server, sampler: ProcSampler, seconds: float, index,
                query: str = "") -> BrowserRun:
    ns, logs = server.ns, server.tools.logs
    tag = f"browser-{server.design}-{res_name(server.res)}-{server.fps}-{index}"
    out, err = logs / f"{tag}.out", logs / f"{tag}.err"
    rendered_before = (ns.get_stats() or {}).get("frames_rendered", 0)
    proc = ns.popen(["node", str(PAGE_TEST), ns.base_url + "/" + query, "--bench", str(seconds),
                     "--screencast"], out, err)
    first_stats: list[dict] = []

    # The renderer runs only while someone watches, so frames being rendered again is a viewer
    # too (should /stats's `viewers` lag).
    def viewer_up() -> bool:
        s = ns.get_stats()
        if s and s.get("frames_rendered", 0) > 0 and (
                s.get("viewers", 0) >= 1 or s.get("frames_rendered", 0) > rendered_before):
            first_stats.append(s)
        return bool(first_stats) or proc.poll() is not None

    wait_for(viewer_up, BROWSER_CONNECT_TIMEOUT_S, 0.5)
    t_up = time.monotonic()
    if not wait_for(lambda: proc.poll() is not None, BROWSER_CONNECT_TIMEOUT_S + seconds + 30,
                    0.1):
        proc.kill()
        proc.wait()
    t_end = time.monotonic() - 1.0   # the page stops measuring, then closes Chromium
    stats = ns.get_stats()
    server.check_alive(f"serving the browser ({tag})")
    page = last_json_line(out)
    drawn = (page or {}).get("screencast") or {}
    if proc.returncode != 0 or not page or not page.get("frames") or not drawn.get("framesDecoded"):
        error = (err.read_text(errors="replace")[-1500:] if err.exists() else "") or "no output"
        log(f"  browser run {index} FAILED (exit {proc.returncode}, "
            f"viewer seen: {bool(first_stats)}): {error}")
        return BrowserRun(ok=False, error=error, page=page, stages=stage_medians(stats))
    t_start = max(t_up + 3.0, t_end - seconds)
    run = BrowserRun(True, drawn.get("p50"), drawn.get("p95"), drawn.get("p99"), drawn.get("max"),
                     page.get("framesPerSecond"), page.get("framesLost"), page.get("frames"),
                     sampler.window(t_start, t_end), stage_medians(stats),
                     late_pct=late_pct(first_stats[0] if first_stats else None, stats), page=page)
    expected = page.get("latencyMs") or {}
    log(f"  browser run {index}: glass-to-glass p50 {run.latency_p50_ms} p95 {run.latency_p95_ms} "
        f"p99 {run.latency_p99_ms} max {run.latency_max_ms} ms ({drawn.get('framesDecoded')} of "
        f"{drawn.get('framesCaptured')} drawn frames read), expected display p50 "
        f"{expected.get('p50')} ms, {run.presented_fps} fps, lost {run.frames_lost}, "
        f"server CPU {run.proc.cpu_pct if run.proc else '?'} %")
    return run


def count_receiving(err_path: Path) -> int:
    try:
        return err_path.read_text(errors="replace").count(RECEIVING_MARK)
    except OSError:
        return 0


def viewer_reports(out_path: Path) -> list[dict]:
    reports = []
    for line in out_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                reports.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return reports


def scaling_step(server: Server, sampler: ProcSampler, viewers: int, prof: Profile) -> ScalingStep:
    ns, logs = server.ns, server.tools.logs
    tag = f"viewers-{server.design}-{res_name(server.res)}-{viewers}"
    out, err = logs / f"{tag}.out", logs / f"{tag}.err"
    duration = prof.ready_timeout_s + prof.warmup_s + prof.window_s + 60
    proc = ns.popen([str(server.tools.viewer), "--url", ns.ws_url, "--duration", str(duration),
                     "--viewers", str(viewers), "--no-decode"], out, err)
    step = ScalingStep(viewers)
    try:
        wait_for(lambda: count_receiving(err) >= viewers or proc.poll() is not None,
                 prof.ready_timeout_s)
        step.ready = count_receiving(err)
        time.sleep(prof.warmup_s)
        before = ns.get_stats()
        t0 = time.monotonic()
        sampler.sample()
        time.sleep(prof.window_s)
        sampler.sample()
        t1 = time.monotonic()
        after = ns.get_stats()
        step.proc = sampler.window(t0, t1)
        step.stages = stage_medians(after)
        step.late_pct = late_pct(before, after)
        step.render_fps = render_fps(before, after, t1 - t0)
    finally:
        stop_process(proc, signal.SIGINT, 20)
    server.check_alive(f"serving {viewers} viewers")
    fill_viewer_figures(step, viewer_reports(out))
    log(f"  {viewers:>2} viewers ({step.ready} receiving): fps min {step.fps_min} median "
        f"{step.fps_median}, server CPU {step.proc.cpu_pct if step.proc else '?'} %, "
        f"RSS {step.proc.rss_steady_mb if step.proc else '?'} MB")
    return step


def fill_viewer_figures(step: ScalingStep, reports: list[dict]) -> None:
    step.fps = [round(r.get("fps", 0.0), 1) for r in reports]
    step.fps += [0.0] * max(0, step.viewers - len(reports))   # a viewer that never reported
    step.fps_min = min(step.fps) if step.fps else None
    step.fps_median = round(statistics.median(step.fps), 1) if step.fps else None
    step.max_gap_ms = max((r.get("max_gap_ms", 0) for r in reports), default=None)
    step.frames_total = sum(r.get("frames", 0) for r in reports)


# ----------------------------------------------------------- one design run


def page_field(r: BrowserRun, section: str, key: str):
    """page_test's `section`.`key` for one run; None where the page or the section is missing."""
    return ((r.page or {}).get(section) or {}).get(key)


def proc_field(r: BrowserRun, name: str) -> Optional[float]:
    return getattr(r.proc, name) if r.proc else None


class BrowserFigure(NamedTuple):
    key: str
    label: str    # row of the main table
    unit: str
    better: str   # "lower" or "higher"
    get: Callable[[BrowserRun], Optional[float]]


STAGE_LABELS = {
    "draw": "render/draw",
    "read_back": "read-back",
    "convert": "colour conversion",
    "encode": "encode",
    "render_to_encoded": "render->encoded",
    "render_to_send": "render->packet sent",
}

# Every per-browser-run figure, in table and JSON order: summarise_browser takes
# the median of each over the repeats, design_figures exports it and
# print_main_table prints one row per entry.
BROWSER_FIGURES = [
    BrowserFigure("latency_p50_ms", "glass-to-glass p50: render -> drawn (ms)", "ms", "lower",
                  lambda r: r.latency_p50_ms),
    BrowserFigure("latency_p95_ms", "glass-to-glass p95: render -> drawn (ms)", "ms", "lower",
                  lambda r: r.latency_p95_ms),
    BrowserFigure("latency_p99_ms", "glass-to-glass p99: render -> drawn (ms)", "ms", "lower",
                  lambda r: r.latency_p99_ms),
    BrowserFigure("latency_max_ms", "glass-to-glass max: render -> drawn (ms)", "ms", "lower",
                  lambda r: r.latency_max_ms),
    # The browser's share, from its own figures: render → handed to the
    # compositor (rVFC presentationTime), jitter buffer wait and decode.
    BrowserFigure("to_compositor_p50_ms", "render -> handed to compositor p50 (ms)", "ms", "lower",
                  lambda r: (r.page or {}).get("toCompositorMsP50")),
    # Chrome's own prediction of when the frame reaches a screen
    # (rVFC expectedDisplayTime); see bench/README.md for why it is not
    # the headline figure.
    BrowserFigure("expected_display_p50_ms", "Chrome's expected display time p50 (ms)", "ms",
                  "lower", lambda r: page_field(r, "latencyMs", "p50")),
    BrowserFigure("expected_display_p95_ms", "Chrome's expected display time p95 (ms)", "ms",
                  "lower", lambda r: page_field(r, "latencyMs", "p95")),
    BrowserFigure("browser_jitter_buffer_ms", "browser jitter buffer per frame (ms)", "ms", "lower",
                  lambda r: page_field(r, "receiver", "jitterBufferMs")),
    BrowserFigure("browser_decode_ms", "browser decode per frame (ms)", "ms", "lower",
                  lambda r: page_field(r, "receiver", "decodeMs")),
    BrowserFigure("presented_fps", "frames presented per second", "fps", "higher",
                  lambda r: r.presented_fps),
    BrowserFigure("frames_lost", "frames lost", "frames", "lower", lambda r: r.frames_lost),
    BrowserFigure("cpu_pct", "server CPU, 1 browser viewer (% core)", "%", "lower",
                  lambda r: proc_field(r, "cpu_pct")),
    BrowserFigure("cpu_peak_pct", "server CPU peak over 0.5 s (% core)", "%", "lower",
                  lambda r: proc_field(r, "cpu_peak_pct")),
    BrowserFigure("rss_peak_mb", "server RSS peak (MB)", "MB", "lower",
                  lambda r: proc_field(r, "rss_peak_mb")),
    BrowserFigure("rss_steady_mb", "server RSS steady (MB)", "MB", "lower",
                  lambda r: proc_field(r, "rss_steady_mb")),
    BrowserFigure("late_pct", "frames rendered late (% of rendered)", "%", "lower",
                  lambda r: r.late_pct),
] + [
    BrowserFigure(f"stage_{stage}_ms", f"stage: {STAGE_LABELS[stage]} median (ms)", "ms", "lower",
                  lambda r, stage=stage: getattr(r.stages, stage))
    for stage in STAGES
]


def summarise_browser(runs: list[BrowserRun]) -> dict:
    """Medians over the repeats of every per-run figure, with [min, max]."""
    ok = [r for r in runs if r.ok]
    summary = {"runs_ok": len(ok), "runs": len(runs)}
    for fig in BROWSER_FIGURES:
        values = [fig.get(r) for r in ok]
        summary[fig.key] = median(values)
        summary[fig.key + "_spread"] = spread(values)
    return summary


def run_design(ns: Namespace, tools: Tools, design: str, res: tuple[int, int], prof: Profile,
               with_scaling: bool) -> DesignResult:
    log(f"{design} {res_name(res)}: starting server")
    result = DesignResult(design, res_name(res))
    server = Server(ns, tools, design, res)
    try:
        with ProcSampler(server.pid) as sampler:
            result.idle.append(measure_idle(server, sampler, prof.idle_s, "before viewers"))
            # Ours: each WebSocket run followed by a WHEP one, so that both see the same
            # machine (load drifts over minutes here).
            for i in range(prof.repeats):
                result.browser.append(browser_run(server, sampler, prof.browser_seconds, i))
                if design == "ours":
                    result.browser_whep.append(browser_run(
                        server, sampler, prof.browser_seconds, f"whep-{i}", "?transport=whep"))
            result.browser_summary = summarise_browser(result.browser)
            if result.browser_whep:
                result.browser_whep_summary = summarise_browser(result.browser_whep)
            if with_scaling:
                result.scaling = run_scaling(server, sampler, design, prof)
            result.idle.append(measure_idle(server, sampler, prof.idle_s, "after viewers left"))
    finally:
        result.server_exit_code = server.stop()
        log(f"{design} {res_name(res)}: server exit code {result.server_exit_code}")
    return result


def run_scaling(server: Server, sampler: ProcSampler, design: str,
                prof: Profile) -> list[ScalingStep]:
    steps = []
    for n in prof.viewer_counts:
        if design == "baseline" and n > prof.baseline_max_viewers:
            steps.append(ScalingStep(n, not_run=f"above --baseline-max-viewers "
                                                f"{prof.baseline_max_viewers}"))
            continue
        steps.append(scaling_step(server, sampler, n, prof))
        time.sleep(1.0)
    return steps


# ------------------------------------------------------------------- soak


def run_soak(ns: Namespace, tools: Tools, minutes: float, viewers: int = 10,
             period_s: float = 5.0) -> SoakResult:
    res = (1280, 720)
    soak = SoakResult(minutes, viewers, res_name(res), period_s)
    server = Server(ns, tools, "ours", res)
    out, err = tools.logs / "soak-viewers.out", tools.logs / "soak-viewers.err"
    proc = ns.popen([str(tools.viewer), "--url", ns.ws_url, "--duration",
                     str(minutes * 60 + 120), "--viewers", str(viewers), "--no-decode"], out, err)
    try:
        wait_for(lambda: count_receiving(err) >= viewers, 60)
        log(f"soak: {count_receiving(err)}/{viewers} viewers receiving; sampling RSS every "
            f"{period_s} s for {minutes} min")
        samples = soak_samples(server, minutes * 60 + SOAK_WARMUP_S, period_s)
    finally:
        stop_process(proc, signal.SIGINT, 20)
        server.stop()
    fill_soak(soak, samples, viewer_reports(out))
    return soak


def soak_samples(server: Server, seconds: float, period_s: float) -> list[ProcSample]:
    samples = []
    start = time.monotonic()
    next_log = start + 60
    while time.monotonic() - start <= seconds:
        server.check_alive("soak")
        s = read_proc(server.pid)
        if s:
            samples.append(s)
        if time.monotonic() >= next_log:
            log(f"soak: {int((time.monotonic() - start) / 60)} min, RSS {s.rss_kb / 1024:.1f} MB")
            next_log += 60
        time.sleep(period_s)
    return samples


def fill_soak(soak: SoakResult, samples: list[ProcSample], reports: list[dict]) -> None:
    if not samples:
        return
    t0 = samples[0].t
    soak.rss_mb = [[round(s.t - t0, 1), round(s.rss_kb / 1024.0, 2)] for s in samples]
    samples = [s for s in samples if s.t - t0 >= soak.warmup_s]
    if len(samples) < 2:
        return
    xs = [(s.t - t0) / 60.0 for s in samples]
    ys = [s.rss_kb / 1024.0 for s in samples]
    soak.first_mb, soak.last_mb = round(ys[0], 1), round(ys[-1], 1)
    soak.min_mb, soak.max_mb = round(min(ys), 1), round(max(ys), 1)
    soak.drift_mb = round(ys[-1] - ys[0], 1)
    soak.max_minus_min_mb = round(max(ys) - min(ys), 1)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    soak.slope_mb_per_min = round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx, 3) \
        if sxx else None
    soak.cpu_pct = summarise_samples(samples).cpu_pct
    fps = [r.get("fps", 0.0) for r in reports]
    soak.viewer_fps_min = round(min(fps), 1) if fps else None
    soak.meets_100mb = soak.max_mb <= 100.0
    soak.flat_5mb = soak.max_minus_min_mb <= 10.0 and abs(soak.drift_mb) <= 5.0


# ------------------------------------------------------------------- loss

LOSS_RES = (1280, 720)
# The targets for ours, per UDP loss level: figure -> bound (the
# figure's `better` says which side of it is met).
LOSS_TARGETS = {
    1: {"presented_fps": 29.0, "longest_freeze_ms": 100.0, "latency_p95_ms": 50.0},
    5: {"presented_fps": 28.0, "longest_freeze_ms": 150.0, "latency_p95_ms": 80.0},
    10: {"presented_fps": 26.0, "longest_freeze_ms": 300.0, "latency_p95_ms": 150.0},
}
LOSS_DESIGNS = ("ours", "libwebrtc")


@dataclass
class LossRun:
    """One browser run through the lossy namespace: ours (page_test.mjs against the server) or
    the libwebrtc reference (reference_test.mjs: Chromium sending to itself)."""

    design: str
    loss_pct: int
    ok: bool
    seconds: Optional[float] = None
    presented_fps: Optional[float] = None
    longest_freeze_ms: Optional[float] = None   # longest gap between two presented frames
    latency_p50_ms: Optional[float] = None      # glass-to-glass (screencast), as in the main run
    latency_p95_ms: Optional[float] = None
    latency_p99_ms: Optional[float] = None
    nacks_per_s: Optional[float] = None         # sent by the receiving browser
    plis_per_s: Optional[float] = None
    bitrate_kbps: Optional[float] = None        # the page's last 1 s figure
    frames_lost: Optional[int] = None
    packets_lost: Optional[int] = None          # the receiver's own count
    media_loss_pct: Optional[float] = None      # lost / (received + lost), where the page has both
    width: Optional[int] = None
    height: Optional[int] = None
    udp_packets: Optional[int] = None           # every UDP packet sent in the namespace (nft)
    udp_lo_packets: Optional[int] = None        # of which routed over lo
    udp_dropped: Optional[int] = None           # dropped by the loss rule
    measured_loss_pct: Optional[float] = None   # udp_dropped / udp_packets
    server_cpu_pct: Optional[float] = None      # ours only
    error: Optional[str] = None
    page: Optional[dict] = None


class LossFigure(NamedTuple):
    key: str
    label: str
    unit: str
    better: Optional[str]   # None: shown and compared, never judged


LOSS_FIGURES = [
    LossFigure("presented_fps", "presented fps", "fps", "higher"),
    LossFigure("longest_freeze_ms", "longest freeze ms", "ms", "lower"),
    LossFigure("latency_p95_ms", "g2g p95 ms", "ms", "lower"),
    LossFigure("latency_p50_ms", "g2g p50 ms", "ms", "lower"),
    LossFigure("nacks_per_s", "NACKs/s", "1/s", None),
    LossFigure("plis_per_s", "PLIs/s", "1/s", None),
    LossFigure("bitrate_kbps", "bitrate kbps", "kbps", None),
    LossFigure("frames_lost", "frames lost", "frames", "lower"),
    LossFigure("measured_loss_pct", "UDP dropped %", "%", None),
    LossFigure("server_cpu_pct", "server CPU %", "%", "lower"),
]


def fill_loss_run(run: LossRun, page: dict, counters: dict[str, int]) -> LossRun:
    seconds = page.get("seconds") or 0
    drawn = page.get("screencast") or {}

    def per_s(key: str) -> Optional[float]:
        v = page.get(key)
        return round(v / seconds, 2) if v is not None and seconds > 0 else None

    run.seconds = seconds
    run.presented_fps = page.get("framesPerSecond")
    run.longest_freeze_ms = page.get("longestFreezeMs")
    run.latency_p50_ms, run.latency_p95_ms, run.latency_p99_ms = \
        drawn.get("p50"), drawn.get("p95"), drawn.get("p99")
    run.nacks_per_s, run.plis_per_s = per_s("nacksSent"), per_s("plisSent")
    run.bitrate_kbps = page.get("bitrateKbps")
    run.frames_lost, run.packets_lost = page.get("framesLost"), page.get("packetsLost")
    received = page.get("packetsReceived")
    if received is not None and run.packets_lost is not None and received + run.packets_lost > 0:
        run.media_loss_pct = round(100.0 * run.packets_lost / (received + run.packets_lost), 2)
    run.width, run.height = page.get("width"), page.get("height")
    fill_loss_counters(run, counters)
    return run


def fill_loss_counters(run: LossRun, counters: dict[str, int]) -> None:
    run.udp_packets, run.udp_lo_packets = counters.get("udp"), counters.get("udp_lo")
    run.udp_dropped = counters.get("dropped")
    if run.udp_packets:
        run.measured_loss_pct = round(100.0 * (run.udp_dropped or 0) / run.udp_packets, 2)


def log_loss_run(run: LossRun, index: int) -> None:
    if not run.ok:
        return
    ref = (run.page or {}).get("reference") or {}
    extra = (f"; reference: drawn {ref.get('framesDrawnPerSecond')}, encoded "
             f"{ref.get('framesEncodedPerSecond')}, decoded {ref.get('framesDecodedPerSecond')}, "
             f"composited {ref.get('compositorFramesPerSecond')} per s, media lost "
             f"{run.media_loss_pct} %") if ref else ""
    log(f"  {run.design} loss {run.loss_pct} % run {index}: {run.presented_fps} fps, longest "
        f"freeze {run.longest_freeze_ms} ms, g2g p50 {run.latency_p50_ms} p95 "
        f"{run.latency_p95_ms} ms, NACK {run.nacks_per_s}/s, PLI {run.plis_per_s}/s, "
        f"{run.bitrate_kbps} kbps, {run.width}x{run.height}; UDP dropped "
        f"{run.udp_dropped}/{run.udp_packets} ({run.measured_loss_pct} %), over lo "
        f"{run.udp_lo_packets}{extra}")


def ours_loss_run(server: Server, sampler: ProcSampler, seconds: float, pct: int, index: int,
                  hook: str) -> LossRun:
    server.ns.set_loss(pct, hook)
    b = browser_run(server, sampler, seconds, f"loss{pct}-{index}")
    counters = server.ns.loss_counters()
    if not b.ok:
        run = LossRun("ours", pct, False, error=b.error, page=b.page)
        fill_loss_counters(run, counters)
        return run
    run = fill_loss_run(LossRun("ours", pct, True, page=b.page), b.page, counters)
    run.server_cpu_pct = b.proc.cpu_pct if b.proc else None
    return run


def reference_kbps(tools: Tools) -> int:
    """The reference sends at most what the server is told to (CS_BITRATE_KBPS, default 2500)."""
    for kv in tools.server_env:
        if kv.startswith("CS_BITRATE_KBPS="):
            try:
                return int(kv.split("=", 1)[1])
            except ValueError:
                pass
    return 2500


def reference_loss_run(ns: Namespace, tools: Tools, seconds: float, pct: int, index: int,
                       hook: str) -> LossRun:
    tag = f"libwebrtc-loss{pct}-{index}"
    out, err = tools.logs / f"{tag}.out", tools.logs / f"{tag}.err"
    ns.set_loss(pct, hook)
    proc = ns.popen(["node", str(REFERENCE_TEST), "--bench", f"{seconds:g}", "--screencast",
                     "--kbps", str(reference_kbps(tools))], out, err)
    if not wait_for(lambda: proc.poll() is not None, BROWSER_CONNECT_TIMEOUT_S + seconds + 30,
                    0.1):
        proc.kill()
        proc.wait()
    counters = ns.loss_counters()
    page = last_json_line(out)
    drawn = (page or {}).get("screencast") or {}
    if proc.returncode != 0 or not page or not page.get("frames") or not drawn.get("framesDecoded"):
        error = (err.read_text(errors="replace")[-1500:] if err.exists() else "") or "no output"
        log(f"  libwebrtc loss {pct} % run {index} FAILED (exit {proc.returncode}): {error}")
        run = LossRun("libwebrtc", pct, False, error=error, page=page)
        fill_loss_counters(run, counters)
        return run
    return fill_loss_run(LossRun("libwebrtc", pct, True, page=page), page, counters)


def summarise_loss(runs: list[LossRun]) -> dict:
    ok = [r for r in runs if r.ok]
    summary = {"runs_ok": len(ok), "runs": len(runs),
               "frame_sizes": sorted({f"{r.width}x{r.height}" for r in ok if r.width})}
    for fig in LOSS_FIGURES:
        values = [getattr(r, fig.key) for r in ok]
        m = median(values)
        summary[fig.key] = round(m, 2) if isinstance(m, float) else m
        summary[fig.key + "_spread"] = spread(values)
    return summary


def loss_targets(pct: int, summary: dict) -> Optional[dict]:
    """For each of the issue's targets at this level: the bound, ours' median over the runs that
    played and whether met. A run that never showed a frame meets no target, so with one the
    verdict is False whatever the median of the others."""
    bounds = LOSS_TARGETS.get(pct)
    if not bounds:
        return None
    better = {f.key: f.better for f in LOSS_FIGURES}
    failed = summary.get("runs", 0) - summary.get("runs_ok", 0)
    out = {}
    for key, bound in bounds.items():
        v = summary.get(key)
        median_met = None if v is None else (v >= bound if better[key] == "higher" else v <= bound)
        out[key] = {"target": bound, "value": v, "median_met": median_met,
                    "met": False if failed else median_met,
                    "op": ">=" if better[key] == "higher" else "<="}
    out["runs_failed"] = failed
    return out


def run_loss(ns: Namespace, tools: Tools, prof: Profile) -> dict:
    """At 720p30, per UDP loss level: `loss_repeats` runs of ours (one server per level), then as
    many of the libwebrtc reference, all in this namespace (with its default route and guard)."""
    ns.add_default_route()
    section = {"resolution": res_name(LOSS_RES), "fps": FPS, "repeats": prof.loss_repeats,
               "browser_seconds": prof.loss_seconds, "hook": prof.loss_hook,
               "designs": prof.loss_designs,
               "server_env": tools.server_env,
               "reference_kbps": reference_kbps(tools), "targets": LOSS_TARGETS, "levels": []}
    for pct in prof.loss_levels:
        level = {"loss_pct": pct}
        if "ours" in prof.loss_designs:
            level["ours"] = run_ours_loss(ns, tools, prof, pct)
        if "libwebrtc" in prof.loss_designs:
            log(f"loss {pct} %: libwebrtc reference, {prof.loss_repeats} run(s)")
            runs = []
            try:
                for i in range(prof.loss_repeats):
                    runs.append(reference_loss_run(ns, tools, prof.loss_seconds, pct, i,
                                                   prof.loss_hook))
                    log_loss_run(runs[-1], i)
            finally:
                ns.set_loss(0)
            level["libwebrtc"] = {"runs": runs, "summary": summarise_loss(runs)}
        section["levels"].append(level)
    section["guard_dropped"] = ns.guard_counters()
    log(f"loss runs done; the guard dropped {section['guard_dropped']} packet(s) not addressed "
        "inside the namespace")
    return section


def run_ours_loss(ns: Namespace, tools: Tools, prof: Profile, pct: int) -> dict:
    log(f"loss {pct} %: ours (720p30), {prof.loss_repeats} run(s) of {prof.loss_seconds:g} s")
    runs: list[LossRun] = []
    server = Server(ns, tools, "ours", LOSS_RES)
    try:
        with ProcSampler(server.pid) as sampler:
            for i in range(prof.loss_repeats):
                runs.append(ours_loss_run(server, sampler, prof.loss_seconds, pct, i,
                                          prof.loss_hook))
                log_loss_run(runs[-1], i)
    finally:
        exit_code = server.stop()
        ns.set_loss(0)
    summary = summarise_loss(runs)
    return {"runs": runs, "summary": summary, "server_exit_code": exit_code,
            "targets": loss_targets(pct, summary)}


def loss_figures(section: dict) -> dict[str, dict]:
    """'lossN.DESIGN.NAME' -> {value, unit, better}, plus 'lossN.ratio.NAME' (ours/libwebrtc)."""
    flat = {}
    for level in section.get("levels", []):
        pct = level["loss_pct"]
        for design in LOSS_DESIGNS:
            if design not in level:
                continue
            summary = level[design].get("summary") or {}
            for fig in LOSS_FIGURES:
                if design == "libwebrtc" and fig.key == "server_cpu_pct":
                    continue
                flat[f"loss{pct}.{design}.{fig.key}"] = {"value": summary.get(fig.key),
                                                         "unit": fig.unit, "better": fig.better}
        ours = (level.get("ours") or {}).get("summary") or {}
        ref = (level.get("libwebrtc") or {}).get("summary") or {}
        if not ours or not ref:
            continue
        for fig in LOSS_FIGURES[:4]:
            r = ratio(ours.get(fig.key), ref.get(fig.key))
            flat[f"loss{pct}.ratio.{fig.key}"] = {"value": round(r, 3) if r is not None else None,
                                                  "unit": "ours/libwebrtc", "better": None}
    return flat


def loss_breakage(section: dict) -> list[str]:
    problems = []
    for level in section.get("levels", []):
        pct = level["loss_pct"]
        ours = level.get("ours") or {}
        if ours.get("server_exit_code") not in (0, None):
            problems.append(f"loss {pct} %: server exit code {ours['server_exit_code']} after "
                            "SIGTERM")
        for design in LOSS_DESIGNS:
            if design in level and not (level[design].get("summary") or {}).get("runs_ok"):
                problems.append(f"loss {pct} %: {design}: the browser presented no frame")
    return problems


# ------------------------------------------------------- issue 13: renditions


@dataclass
class ViewerGroup:
    """One cs-test-viewer process: `viewers` viewers with the same flags."""

    label: str
    viewers: int
    args: list[str]
    rung: Optional[int] = None        # --rung, the rung every one of them must be on
    decode: bool = False              # decoding (latency from the strip) or --no-decode
    ready: int = 0
    fps: list[float] = field(default_factory=list)
    fps_min: Optional[float] = None
    fps_median: Optional[float] = None
    max_gap_ms: Optional[int] = None
    frames_total: int = 0
    codecs: list[str] = field(default_factory=list)          # received, per viewer
    rungs: list[Optional[int]] = field(default_factory=list)  # last rendition message, per viewer
    wrong_rung: int = 0               # viewers whose last rendition was not `rung`
    latency_p50_ms: Optional[float] = None   # decoding viewers: render -> decoded, median
    latency_p95_ms: Optional[float] = None


@dataclass
class GroupStep:
    """Several viewer groups at once against one server: one measured window."""

    name: str
    groups: list[ViewerGroup]
    proc: Optional[ProcWindow] = None
    threads_cpu_pct: dict = field(default_factory=dict)   # thread name -> % core, in the window
    stages: StageMedians = field(default_factory=StageMedians)
    late_pct: Optional[float] = None
    render_fps: Optional[float] = None

    @property
    def viewers(self) -> int:
        return sum(g.viewers for g in self.groups)

    @property
    def fps_min(self) -> Optional[float]:
        values = [g.fps_min for g in self.groups if g.fps_min is not None]
        return min(values) if values else None


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """tid -> (thread name, utime + stime), from /proc/PID/task."""
    ticks: dict[int, tuple[str, int]] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return ticks
    for tid in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks[int(tid)] = (name, int(fields[11]) + int(fields[12]))
    return ticks


def threads_cpu(before: dict, after: dict, seconds: float) -> dict:
    """% of a core per thread name over the window (threads of one name added up; one that
    started in the window counts from 0, one that ended in it is missing), busiest first,
    those above 0.5 %. Linux keeps 15 characters of a name: "rendition-H264-" is every H.264
    rung, "rendition-VP8-0" VP8's top rung."""
    out: dict[str, float] = {}
    for tid, (name, t) in after.items():
        out[name] = out.get(name, 0.0) + 100.0 * (t - before.get(tid, (name, 0))[1]) / CLK_TCK
    out = {k: round(v / seconds, 1) for k, v in out.items()}
    return dict(sorted(((k, v) for k, v in out.items() if v >= 0.5), key=lambda kv: -kv[1]))


def group_step(server: Server, sampler: ProcSampler, name: str, groups: list[ViewerGroup],
               prof: Profile) -> GroupStep:
    """Starts every group, waits until all receive (or the timeout), warms up, measures one
    window (server CPU, RSS, CPU per thread name, /stats), then stops them and reads their
    reports."""
    ns, logs = server.ns, server.tools.logs
    step = GroupStep(name, groups)
    duration = prof.ready_timeout_s + prof.warmup_s + prof.window_s + 60
    procs = []
    try:
        for i, g in enumerate(groups):
            tag = f"group-{name}-{i}-{int(time.time())}"
            out, err = logs / f"{tag}.out", logs / f"{tag}.err"
            argv = [str(server.tools.viewer), "--url", ns.ws_url, "--duration", str(duration),
                    "--viewers", str(g.viewers), *g.args]
            if not g.decode:
                argv.append("--no-decode")
            if g.rung is not None:
                argv += ["--rung", str(g.rung)]
            procs.append((g, ns.popen(argv, out, err), out, err))
        wait_for(lambda: all(count_receiving(err) >= g.viewers or p.poll() is not None
                             for g, p, _, err in procs), prof.ready_timeout_s)
        for g, _, _, err in procs:
            g.ready = count_receiving(err)
        time.sleep(prof.warmup_s)
        before = ns.get_stats()
        t0 = time.monotonic()
        sampler.sample()
        ticks0 = thread_ticks(server.pid)
        time.sleep(prof.window_s)
        ticks1 = thread_ticks(server.pid)
        sampler.sample()
        t1 = time.monotonic()
        after = ns.get_stats()
        step.proc = sampler.window(t0, t1)
        step.threads_cpu_pct = threads_cpu(ticks0, ticks1, t1 - t0)
        step.stages = stage_medians(after)
        step.late_pct = late_pct(before, after)
        step.render_fps = render_fps(before, after, t1 - t0)
    finally:
        for _, p, _, _ in procs:
            stop_process(p, signal.SIGINT, 20)
    server.check_alive(f"serving {step.viewers} viewers ({name})")
    for g, _, out, _ in procs:
        fill_group(g, viewer_reports(out))
    log(f"  {name}: " + "; ".join(
        f"{g.label}: {g.ready}/{g.viewers} receiving, fps min {g.fps_min} median {g.fps_median}"
        + (f", latency p50 {g.latency_p50_ms} ms" if g.decode else "")
        + (f", {g.wrong_rung} on another rung" if g.wrong_rung else "") for g in groups)
        + f"; server CPU {step.proc.cpu_pct if step.proc else '?'} %, RSS "
          f"{step.proc.rss_steady_mb if step.proc else '?'} MB")
    return step


def fill_group(g: ViewerGroup, reports: list[dict]) -> None:
    tmp = ScalingStep(g.viewers)
    fill_viewer_figures(tmp, reports)
    g.fps, g.fps_min, g.fps_median = tmp.fps, tmp.fps_min, tmp.fps_median
    g.max_gap_ms, g.frames_total = tmp.max_gap_ms, tmp.frames_total
    g.codecs = [r.get("codec") or "" for r in reports]
    g.rungs = [((r.get("renditions") or [{}])[-1]).get("rung") for r in reports]
    if g.rung is not None:
        g.wrong_rung = sum(1 for x in g.rungs if x != g.rung) + max(0, g.viewers - len(reports))
    if g.decode:
        p50 = [r["latency_ms_p50"] for r in reports if r.get("latency_ms_p50")]
        p95 = [r["latency_ms_p95"] for r in reports if r.get("latency_ms_p95")]
        g.latency_p50_ms, g.latency_p95_ms = median(p50), median(p95)


def group_problems(where: str, step: GroupStep) -> list[str]:
    problems = []
    for g in step.groups:
        if g.ready < g.viewers or g.frames_total == 0 or (g.fps_min or 0) <= 0:
            problems.append(f"{where} {step.name} {g.label}: {g.ready}/{g.viewers} receiving, "
                            f"fps min {g.fps_min}")
        if g.wrong_rung:
            problems.append(f"{where} {step.name} {g.label}: {g.wrong_rung} viewer(s) not on "
                            f"the rung they pinned ({g.rung}): {g.rungs}")
    if not step.stages.frames_rendered:
        problems.append(f"{where} {step.name}: server rendered no frame")
    return problems


@dataclass
class SectionResult:
    """One issue-13 section: its steps and browser runs, figures and what broke."""

    name: str
    steps: list[GroupStep] = field(default_factory=list)
    browser: dict = field(default_factory=dict)     # label -> list of runs
    figures: dict = field(default_factory=dict)     # NAME -> {value, unit, better}
    server_exit_codes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fig(self, name: str, value, unit: str, better: Optional[str]) -> None:
        self.figures[f"{self.name}.{name}"] = {
            "value": round(value, 2) if isinstance(value, float) else value,
            "unit": unit, "better": better}


def stop_server(section: SectionResult, server: Server, label: str) -> None:
    code = server.stop()
    section.server_exit_codes[label] = code
    if code != 0:
        section.problems.append(f"{section.name} {label}: server exit code {code} after SIGTERM")


def split_viewers(total: int, parts: int) -> list[int]:
    """total viewers over `parts` groups, the first ones one larger: 25 over 3 = 9, 8, 8."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_rungs(ns: Namespace, tools: Tools, prof: Profile) -> SectionResult:
    """25 native viewers pinned over the three rungs of the default ladder (720p30)."""
    section = SectionResult("rungs")
    res = (1280, 720)
    log(f"rungs: {res_name(res)}@{FPS}, viewers pinned to rungs 0/1/2")
    server = Server(ns, tools, "ours", res)
    try:
        with ProcSampler(server.pid) as sampler:
            for total in prof.rung_viewers:
                groups = [ViewerGroup(f"rung {i}", n, [], rung=i)
                          for i, n in enumerate(split_viewers(total, 3))]
                step = group_step(server, sampler, f"{total} viewers", groups, prof)
                section.steps.append(step)
                section.problems += group_problems("rungs", step)
                time.sleep(1.0)
    finally:
        stop_server(section, server, res_name(res))
    for step in section.steps:
        v = f"v{step.viewers}"
        cpu = step.proc.cpu_pct if step.proc else None
        for g in step.groups:
            section.fig(f"{v}.rung{g.rung}_fps_min", g.fps_min, "fps", "higher")
        section.fig(f"{v}.fps_min", step.fps_min, "fps", "higher")
        section.fig(f"{v}.all_29fps", bool(step.fps_min and step.fps_min >= 29), "bool", None)
        section.fig(f"{v}.cpu_pct", cpu, "%", "lower")
        section.fig(f"{v}.cpu_per_viewer_pct", cpu / step.viewers if cpu is not None else None,
                    "%", "lower")
        section.fig(f"{v}.rss_mb", step.proc.rss_steady_mb if step.proc else None, "MB", "lower")
        section.fig(f"{v}.late_pct", step.late_pct, "%", "lower")
        section.fig(f"{v}.render_fps", step.render_fps, "fps", "higher")
    measured = [s for s in section.steps if s.proc]
    if len(measured) >= 2:
        lo, hi = measured[0], measured[-1]
        section.fig(f"cpu_per_added_viewer_{lo.viewers}_{hi.viewers}_pct",
                    (hi.proc.cpu_pct - lo.proc.cpu_pct) / (hi.viewers - lo.viewers), "%", "lower")
    return section


def run_hd60(ns: Namespace, tools: Tools, prof: Profile) -> SectionResult:
    """1080p60 to native viewers (one of them decoding, for the latency), then browser
    glass-to-glass at 720p60 beside 720p30."""
    section = SectionResult("hd60")
    res = (1920, 1080)
    log(f"hd60: {res_name(res)}@60 to {prof.hd60_viewers} native viewers (1 decoding)")
    server = Server(ns, tools, "ours", res, fps=60)
    try:
        with ProcSampler(server.pid) as sampler:
            groups = [ViewerGroup("no-decode", prof.hd60_viewers - 1, []),
                      ViewerGroup("decoding", 1, [], decode=True)]
            step = group_step(server, sampler, f"{prof.hd60_viewers} viewers", groups, prof)
            section.steps.append(step)
            section.problems += group_problems("hd60", step)
    finally:
        stop_server(section, server, f"{res_name(res)}@60")
    fps = [x for g in step.groups for x in g.fps]
    v = f"1080p60.v{step.viewers}"
    section.fig(f"{v}.fps_min", min(fps) if fps else None, "fps", "higher")
    section.fig(f"{v}.fps_median", median(fps), "fps", "higher")
    section.fig(f"{v}.max_gap_ms", max((g.max_gap_ms or 0 for g in step.groups), default=None),
                "ms", "lower")
    section.fig(f"{v}.cpu_pct", step.proc.cpu_pct if step.proc else None, "%", "lower")
    section.fig(f"{v}.rss_mb", step.proc.rss_steady_mb if step.proc else None, "MB", "lower")
    section.fig(f"{v}.late_pct", step.late_pct, "%", "lower")
    section.fig(f"{v}.render_fps", step.render_fps, "fps", "higher")
    section.fig(f"{v}.native_latency_p50_ms", groups[1].latency_p50_ms, "ms", "lower")
    section.fig(f"{v}.native_latency_p95_ms", groups[1].latency_p95_ms, "ms", "lower")
    section.fig(f"{v}.render_to_send_p50_ms", step.stages.render_to_send, "ms", "lower")
    # Glass-to-glass at 720p, 60 against 30 fps: one server each, the same repeats.
    for fps in (30, 60):
        if fps == 30 and not prof.hd60_with_30:
            continue
        label = f"720p{fps}"
        server = Server(ns, tools, "ours", (1280, 720), fps=fps)
        try:
            with ProcSampler(server.pid) as sampler:
                runs = [browser_run(server, sampler, prof.browser_seconds, f"{label}-{i}")
                        for i in range(prof.repeats)]
        finally:
            stop_server(section, server, label)
        section.browser[label] = runs
        ok = [r for r in runs if r.ok]
        if not ok:
            section.problems.append(f"hd60 {label}: the browser presented no frame")
        for key in ("latency_p50_ms", "latency_p95_ms", "presented_fps"):
            fig = next(f for f in BROWSER_FIGURES if f.key == key)
            section.fig(f"{label}.{key}", median([fig.get(r) for r in ok]), fig.unit, fig.better)
        section.fig(f"{label}.cpu_pct", median([proc_field(r, "cpu_pct") for r in ok]), "%",
                    "lower")
    p60 = section.figures.get("hd60.720p60.latency_p50_ms", {}).get("value")
    p30 = section.figures.get("hd60.720p30.latency_p50_ms", {}).get("value")
    if p60 is not None and p30 is not None:
        section.fig("720p60_minus_720p30_latency_p50_ms", p60 - p30, "ms", "lower")
    return section


def page_cmd(ns: Namespace, browser: str, seconds: float) -> list[str]:
    argv = ["node", str(PAGE_TEST), ns.base_url + "/", "--browser", browser, "--bench",
            str(seconds)]
    return argv + (["--screencast"] if browser == "chromium" else ["--screenshots"])


@dataclass
class PairRun:
    """Chromium (H.264) and Firefox (VP8) watching one server at once."""

    ok: bool
    chromium: Optional[dict] = None   # page_test's JSON
    firefox: Optional[dict] = None
    proc: Optional[ProcWindow] = None
    threads_cpu_pct: dict = field(default_factory=dict)
    error: Optional[str] = None


def pair_run(server: Server, sampler: ProcSampler, seconds: float, index: int) -> PairRun:
    """Both start together; Chromium's page measures long enough (2 S + 5 s) to outlast
    Firefox's, which measures S seconds (at least 6) and then takes as long of screenshots.
    The window: from 4 s after both are viewers (warm-up) to Firefox's end, so both watch
    throughout."""
    ns, logs = server.ns, server.tools.logs
    files = {b: (logs / f"pair-{b}-{index}.out", logs / f"pair-{b}-{index}.err")
             for b in ("chromium", "firefox")}
    started = time.monotonic()
    procs = {"firefox": ns.popen(page_cmd(ns, "firefox", max(seconds, 6.0)), *files["firefox"]),
             "chromium": ns.popen(page_cmd(ns, "chromium", 2 * seconds + 5), *files["chromium"])}
    ticks0: dict = {}
    ticks1: dict = {}
    t0 = t1 = None

    def viewers(n: int) -> Callable[[], bool]:
        return lambda: ((ns.get_stats() or {}).get("viewers", 0) >= n
                        or any(p.poll() is not None for p in procs.values()))
    try:
        wait_for(viewers(2), BROWSER_CONNECT_TIMEOUT_S, 0.5)
        log(f"  pair {index}: both viewers after {round(time.monotonic() - started, 1)} s "
            f"(/stats viewers {(ns.get_stats() or {}).get('viewers')})")
        time.sleep(4.0)
        if procs["firefox"].poll() is None:
            t0 = time.monotonic()
            sampler.sample()
            ticks0 = thread_ticks(server.pid)
        wait_for(lambda: procs["firefox"].poll() is not None,
                 BROWSER_CONNECT_TIMEOUT_S + 2 * seconds + 60, 0.1)
        t1 = time.monotonic() - 1.0   # the page stops, then closes Firefox
        ticks1 = thread_ticks(server.pid)
        wait_for(lambda: procs["chromium"].poll() is not None,
                 BROWSER_CONNECT_TIMEOUT_S + 2 * seconds + 40, 0.2)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    server.check_alive(f"serving Chromium and Firefox ({index})")
    pages = {b: last_json_line(files[b][0]) for b in files}
    failed = [b for b in files if b not in procs or procs[b].returncode != 0
              or not (pages[b] or {}).get("frames")]
    run = PairRun(not failed, pages["chromium"], pages["firefox"])
    if t0 is not None and t1 is not None and t1 > t0 + 1.0:
        run.proc = sampler.window(t0, t1)
        run.threads_cpu_pct = threads_cpu(ticks0, ticks1, t1 - t0 + 1.0)
    if failed:
        run.error = "; ".join(
            f"{b} (exit {procs[b].returncode if b in procs else 'not started'}): "
            + ((files[b][1].read_text(errors='replace')[-800:] if files[b][1].exists() else "")
               or "no output") for b in failed)
        log(f"  Chromium + Firefox run {index} FAILED: {run.error}")
        return run
    log(f"  Chromium + Firefox run {index}: Chromium {page_codec(run.chromium)} "
        f"{run.chromium.get('framesPerSecond')} fps g2g p50 "
        f"{(run.chromium.get('screencast') or {}).get('p50')} ms; Firefox "
        f"{page_codec(run.firefox)} {run.firefox.get('framesPerSecond')} fps g2g p50 "
        f"{(run.firefox.get('latencyMs') or {}).get('p50')} ms (age on show "
        f"{firefox_g2g(run.firefox, 'lowMs')}..{firefox_g2g(run.firefox, 'highMs')} ms); "
        f"server CPU "
        f"{run.proc.cpu_pct if run.proc else '?'} % over {round(t1 - t0, 1) if run.proc else '?'} s")
    return run


def page_codec(page: Optional[dict]) -> Optional[str]:
    """The codec the page decoded (page_test's bench `codec`: csStats.codec)."""
    return (page or {}).get("codec")


def firefox_g2g(page: Optional[dict], key: str, pct: str = "p50") -> Optional[float]:
    """From the Firefox page's screenshots: the age of the frame on show, bounded from when
    the capture was asked for (lowMs) and when it came back (highMs)."""
    return (((page or {}).get("screenshots") or {}).get(key) or {}).get(pct)


def vp8_threads_cpu(threads: dict) -> Optional[float]:
    """CPU of the threads that carry the VP8 rendition (named after its elements)."""
    values = [v for k, v in threads.items() if "vp8" in k.lower() or "VP8" in k]
    return round(sum(values), 1) if values else None


def run_firefox(ns: Namespace, tools: Tools, prof: Profile) -> SectionResult:
    """720p30, CS_CODECS default: Chromium alone, then Chromium and Firefox at once."""
    section = SectionResult("firefox")
    res = (1280, 720)
    log(f"firefox: {res_name(res)}@{FPS}, Chromium alone, then Chromium + Firefox at once")
    ns.add_default_route()   # Firefox gathers no candidate without one (firefox.mjs)
    server = Server(ns, tools, "ours", res)
    alone: list[BrowserRun] = []
    pairs: list[PairRun] = []
    try:
        with ProcSampler(server.pid) as sampler:
            for i in range(prof.repeats):
                alone.append(browser_run(server, sampler, prof.browser_seconds, f"alone-{i}"))
                pairs.append(pair_run(server, sampler, prof.browser_seconds, i))
    finally:
        stop_server(section, server, res_name(res))
    section.browser = {"chromium_alone": alone, "chromium_firefox": pairs}
    outside = ns.guard_counters().get("outside", 0)
    section.fig("guard_outside_packets", outside, "packets", "lower")
    if outside:
        section.problems.append(f"firefox: {outside} packets for outside the namespace dropped")
    ok_alone = [r for r in alone if r.ok]
    ok_pairs = [r for r in pairs if r.ok]
    if not ok_alone:
        section.problems.append("firefox: Chromium alone presented no frame")
    if not ok_pairs:
        section.problems.append("firefox: no run where both browsers presented frames")
    for r in ok_pairs:
        if page_codec(r.firefox) != "VP8":
            section.problems.append(f"firefox: Firefox received {page_codec(r.firefox)}, not VP8")
    cpu_alone = median([proc_field(r, "cpu_pct") for r in ok_alone])
    cpu_pair = median([r.proc.cpu_pct for r in ok_pairs if r.proc])
    section.fig("chromium_alone.cpu_pct", cpu_alone, "%", "lower")
    section.fig("chromium_alone.latency_p50_ms", median([r.latency_p50_ms for r in ok_alone]),
                "ms", "lower")
    section.fig("both.cpu_pct", cpu_pair, "%", "lower")
    section.fig("both.added_cpu_pct",
                cpu_pair - cpu_alone if cpu_pair is not None and cpu_alone is not None else None,
                "%", "lower")
    section.fig("both.vp8_threads_cpu_pct",
                median([vp8_threads_cpu(r.threads_cpu_pct) for r in ok_pairs]), "%", "lower")
    section.fig("both.chromium_fps", median([r.chromium.get("framesPerSecond") for r in ok_pairs]),
                "fps", "higher")
    section.fig("both.chromium_latency_p50_ms",
                median([(r.chromium.get("screencast") or {}).get("p50") for r in ok_pairs]),
                "ms", "lower")
    section.fig("both.firefox_fps", median([r.firefox.get("framesPerSecond") for r in ok_pairs]),
                "fps", "higher")
    # Firefox has no screencast: its glass-to-glass is render -> rVFC's expected display time
    # (latencyMs), which its screenshots check (the frame captured is the one rVFC last
    # presented in latest_shown_pct of them); the screenshots themselves bound the age of the
    # frame on show (glass-to-glass plus its time on screen) from below and above.
    for pct in ("p50", "p95"):
        section.fig(f"both.firefox_g2g_{pct}_ms",
                    median([(r.firefox.get("latencyMs") or {}).get(pct) for r in ok_pairs]),
                    "ms", "lower")
    section.fig("both.firefox_to_compositor_p50_ms",
                median([r.firefox.get("toCompositorMsP50") for r in ok_pairs]), "ms", "lower")
    for key, label in (("lowMs", "low"), ("highMs", "high")):
        section.fig(f"both.firefox_shown_age_{label}_p50_ms",
                    median([firefox_g2g(r.firefox, key) for r in ok_pairs]), "ms", "lower")
    section.fig("both.firefox_latest_shown_pct",
                median([((r.firefox.get("screenshots") or {}).get("latestShownPct"))
                        for r in ok_pairs]), "%", "higher")
    return section


SECTIONS = {"firefox": run_firefox, "hd60": run_hd60, "rungs": run_rungs}


def run_sections(ns: Namespace, tools: Tools, prof: Profile) -> dict[str, SectionResult]:
    out = {}
    for name in prof.sections:
        try:
            out[name] = SECTIONS[name](ns, tools, prof)
        except BrokenRun as e:
            out[name] = SectionResult(name, problems=[f"{name}: {e}"])
    return out


def print_sections(sections: dict) -> None:
    for name, sec in sections.items():
        print(f"\n== {name} ==")
        for step in sec.steps:
            p = step.proc
            print(f"{step.name}: server CPU {fmt(p.cpu_pct if p else None)} %, RSS "
                  f"{fmt(p.rss_steady_mb if p else None)} MB, late {fmt(step.late_pct)} %, "
                  f"rendered/s {fmt(step.render_fps)}")
            for g in step.groups:
                print(f"  {g.label:<12} {g.ready:>3}/{g.viewers:<3} receiving  fps min "
                      f"{fmt(g.fps_min):>6} median {fmt(g.fps_median):>6}  max gap "
                      f"{fmt(g.max_gap_ms):>5} ms  codec {','.join(sorted(set(g.codecs))) or '-'}"
                      + (f"  latency p50 {fmt(g.latency_p50_ms)} p95 {fmt(g.latency_p95_ms)} ms"
                         if g.decode else ""))
            busiest = list(step.threads_cpu_pct.items())[:6]
            if busiest:
                print("  busiest threads (% core): "
                      + ", ".join(f"{k} {v}" for k, v in busiest))
        print(f"{'figure':<52} {'value':>10} unit")
        for key, f in sec.figures.items():
            print(f"{key.split('.', 1)[1]:<52} {fmt(f['value']):>10} {f['unit']}")
        for p in sec.problems:
            print(f"PROBLEM: {p}")


# -------------------------------------------------------------- figures/JSON


# name -> (unit, better, value); better is "lower" or "higher".
def design_figures(r: DesignResult) -> dict[str, tuple[str, str, Optional[float]]]:
    figs = {fig.key: (fig.unit, fig.better, r.browser_summary.get(fig.key))
            for fig in BROWSER_FIGURES}
    if r.browser_whep_summary:
        figs.update({"whep_" + fig.key: (fig.unit, fig.better, r.browser_whep_summary.get(fig.key))
                     for fig in BROWSER_FIGURES})
    for idle in r.idle:
        key = "idle_cpu_pct" if idle.when.startswith("before") else "idle_after_cpu_pct"
        figs[key] = ("%", "lower", idle.proc.cpu_pct if idle.proc else None)
    for s in r.scaling:
        if s.not_run:
            continue
        v = f"v{s.viewers}"
        figs[f"{v}_fps_min"] = ("fps", "higher", s.fps_min)
        figs[f"{v}_fps_median"] = ("fps", "higher", s.fps_median)
        figs[f"{v}_cpu_pct"] = ("%", "lower", s.proc.cpu_pct if s.proc else None)
        figs[f"{v}_rss_mb"] = ("MB", "lower", s.proc.rss_steady_mb if s.proc else None)
        figs[f"{v}_late_pct"] = ("%", "lower", s.late_pct)
        figs[f"{v}_render_fps"] = ("fps", "higher", s.render_fps)
    cpa = cpu_per_added_viewer(r)
    if cpa is not None:
        steps = [s for s in r.scaling if not s.not_run and s.proc]
        name = f"cpu_per_added_viewer_{steps[0].viewers}_{steps[-1].viewers}_pct"
        figs[name] = ("%", "lower", cpa)
    return figs


def cpu_per_added_viewer(r: DesignResult) -> Optional[float]:
    steps = [s for s in r.scaling if not s.not_run and s.proc]
    if len(steps) < 2:
        return None
    lo, hi = steps[0], steps[-1]
    return round((hi.proc.cpu_pct - lo.proc.cpu_pct) / (hi.viewers - lo.viewers), 2)


def flat_figures(results: dict[str, dict[str, DesignResult]]) -> dict[str, dict]:
    """Every figure as 'RES.DESIGN.NAME' -> {value, unit, better}, plus ratios."""
    flat = {}
    for res, by_design in results.items():
        per_design = {d: design_figures(r) for d, r in by_design.items()}
        for design, figs in per_design.items():
            for name, (unit, better, value) in figs.items():
                flat[f"{res}.{design}.{name}"] = {"value": value, "unit": unit, "better": better}
        if "ours" in per_design and "baseline" in per_design:
            for name, (unit, _, value) in per_design["ours"].items():
                base = baseline_value(per_design["baseline"], name)
                r = ratio(value, base)
                flat[f"{res}.ratio.{name}"] = {"value": round(r, 3) if r is not None else None,
                                               "unit": "ours/baseline", "better": None}
    return flat


def baseline_value(figs: dict[str, tuple], name: str) -> Optional[float]:
    """The baseline's figure of that name; CPU per added viewer spans fewer viewers there."""
    if name.startswith("cpu_per_added_viewer_"):
        name = next((k for k in figs if k.startswith("cpu_per_added_viewer_")), name)
    return figs.get(name, (None, None, None))[2]


def machine_info() -> dict:
    cpu_model = ""
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu_model = m.group(1) if m else ""
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu_model, "kernel": platform.release(),
            "loadavg_before": loadavg()}


def git_commit() -> Optional[str]:
    r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                       text=True)
    return r.stdout.strip() if r.returncode == 0 else None


# ------------------------------------------------------------------ printing


def fmt(v, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def fmt_spread(value, sp) -> str:
    if value is None:
        return "-"
    if not sp or sp[0] == sp[1]:
        return fmt(value)
    return f"{fmt(value)} [{fmt(sp[0])}..{fmt(sp[1])}]"


def print_main_table(results: dict[str, dict[str, DesignResult]], repeats: int) -> None:
    for res, by_design in results.items():
        ours, base = by_design.get("ours"), by_design.get("baseline")
        print(f"\n== {res} @ {FPS} fps  (median of {repeats} browser run(s); [min..max]) ==")
        print(f"{'figure':<40} {'ours':>22} {'baseline':>22} {'ratio':>7} {'ours, WHEP':>22} "
              f"{'WHEP/WS':>7}")
        for key, label, *_ in BROWSER_FIGURES:
            ov = ours.browser_summary.get(key) if ours else None
            bv = base.browser_summary.get(key) if base else None
            osp = ours.browser_summary.get(key + "_spread") if ours else None
            bsp = base.browser_summary.get(key + "_spread") if base else None
            wv = ours.browser_whep_summary.get(key) if ours else None
            wsp = ours.browser_whep_summary.get(key + "_spread") if ours else None
            r = ratio(ov, bv)
            print(f"{label:<40} {fmt_spread(ov, osp):>22} {fmt_spread(bv, bsp):>22} "
                  f"{fmt(r, 2):>7} {fmt_spread(wv, wsp):>22} {fmt(ratio(wv, ov), 2):>7}")
        for when, label in (("before", "server CPU, no viewer (% core)"),
                            ("after", "server CPU, after viewers left (% core)")):
            ov = idle_cpu(ours, when)
            bv = idle_cpu(base, when)
            print(f"{label:<40} {fmt(ov):>22} {fmt(bv):>22} {'':>7}")


def idle_cpu(r: Optional[DesignResult], when: str) -> Optional[float]:
    if not r:
        return None
    for idle in r.idle:
        if idle.when.startswith(when) and idle.proc:
            return idle.proc.cpu_pct
    return None


def print_scaling_table(results: dict[str, dict[str, DesignResult]]) -> None:
    for res, by_design in results.items():
        if not any(r.scaling for r in by_design.values()):
            continue
        print(f"\n== viewer scaling, {res}, native no-decode viewers ==")
        print(f"{'design':<9} {'viewers':>7} {'receiving':>9} {'fps min':>8} {'fps med':>8} "
              f"{'max gap ms':>10} {'CPU %':>7} {'RSS MB':>7} {'late %':>7} {'rendered/s':>10}")
        for design in DESIGNS:
            r = by_design.get(design)
            for s in (r.scaling if r else []):
                if s.not_run:
                    print(f"{design:<9} {s.viewers:>7}   not run ({s.not_run})")
                    continue
                p = s.proc
                print(f"{design:<9} {s.viewers:>7} {s.ready:>9} {fmt(s.fps_min):>8} "
                      f"{fmt(s.fps_median):>8} {fmt(s.max_gap_ms):>10} "
                      f"{fmt(p.cpu_pct if p else None):>7} {fmt(p.rss_steady_mb if p else None):>7}"
                      f" {fmt(s.late_pct):>7} {fmt(s.render_fps):>10}")
        ours = by_design.get("ours")
        if ours:
            steps = [s for s in ours.scaling if not s.not_run]
            if len(steps) >= 2:
                print(f"ours: CPU per added viewer = (CPU at {steps[-1].viewers} - CPU at "
                      f"{steps[0].viewers}) / {steps[-1].viewers - steps[0].viewers} = "
                      f"{fmt(cpu_per_added_viewer(ours), 2)} % of a core")


def print_soak(soak: SoakResult) -> None:
    print(f"\n== soak: {soak.viewers} no-decode viewers, {soak.resolution}, {soak.minutes} min "
          f"after {soak.warmup_s:g} s warm-up, RSS every {soak.period_s} s ==")
    print(f"RSS first {fmt(soak.first_mb)} MB, last {fmt(soak.last_mb)} MB, min {fmt(soak.min_mb)}"
          f", max {fmt(soak.max_mb)} MB; drift (last-first) {fmt(soak.drift_mb)} MB; "
          f"max-min {fmt(soak.max_minus_min_mb)} MB; slope {fmt(soak.slope_mb_per_min, 3)} MB/min")
    print(f"server CPU {fmt(soak.cpu_pct)} %; viewer fps min {fmt(soak.viewer_fps_min)}")
    print(f"target RSS <= 100 MB: {'yes' if soak.meets_100mb else 'NO'}; "
          f"flat +-5 MB: {'yes' if soak.flat_5mb else 'NO'}")


def describe_failure(error: Optional[str]) -> str:
    """One line for a failed browser run; page_test's time-out carries the page's last csStats."""
    first = (error or "no output").strip().splitlines()[0]
    m = re.search(r"last csStats: (\{.*\})\s*$", first)
    if not m:
        return first[:160]
    try:
        st = json.loads(m.group(1))
    except json.JSONDecodeError:
        return first[:160]
    rx = st.get("receiver") or {}
    return (f"{first[:first.index(';')]}: state {st.get('state')}, {rx.get('framesDecoded')} frames "
            f"decoded, {st.get('framesPresented')} presented, video {st.get('width')}x"
            f"{st.get('height')}, {st.get('bitrateKbps')} kbps, NACK {rx.get('nackCount')}, "
            f"PLI {rx.get('pliCount')}")


def print_loss_table(section: dict) -> None:
    figs = [f for f in LOSS_FIGURES if f.key in
            ("presented_fps", "longest_freeze_ms", "latency_p95_ms", "nacks_per_s", "plis_per_s",
             "bitrate_kbps", "measured_loss_pct")]
    print(f"\n== UDP loss, {section['resolution']} @ {section['fps']} fps: ours and the libwebrtc "
          f"reference (median of {section['repeats']} run(s) of {section['browser_seconds']:g} s;"
          f" [min..max]) ==")
    print(f"loss rule on the nftables {section.get('hook')} hook, both ways"
          + (f"; server env: {' '.join(section['server_env'])}" if section.get("server_env") else ""))
    head = (f"{'UDP loss':<9} {'design':<10}" + "".join(f" {f.label:>19}" for f in figs)
            + "  frame size at end")
    print(head)
    for level in section["levels"]:
        for i, design in enumerate(d for d in LOSS_DESIGNS if d in level):
            summary = level[design].get("summary") or {}
            first = f"{level['loss_pct']} %" if i == 0 else ""
            ok = f" ({summary.get('runs_ok', 0)}/{summary.get('runs', 0)} ok)" \
                if summary.get("runs_ok") != summary.get("runs") else ""
            cells = "".join(f" {fmt_spread(summary.get(f.key), summary.get(f.key + '_spread')):>19}"
                            for f in figs)
            sizes = ",".join(summary.get("frame_sizes") or []) or "-"
            print(f"{first:<9} {design:<10}{cells}  {sizes}{ok}")
    failures = [(level["loss_pct"], d, r) for level in section["levels"] for d in LOSS_DESIGNS
                if d in level for r in level[d]["runs"] if not r.get("ok")]
    for pct, design, r in failures:
        print(f"failed: {pct} % {design}: {describe_failure(r.get('error'))}")
    print("(UDP dropped %: packets the loss rule dropped / every UDP packet sent in the namespace, "
          "both ways)")
    rows = [(level["loss_pct"], (level.get("ours") or {}).get("targets"))
            for level in section["levels"]]
    if not any(t for _, t in rows):
        return
    labels = {f.key: f.label for f in LOSS_FIGURES}
    keys = ("presented_fps", "longest_freeze_ms", "latency_p95_ms")
    print("\ntargets (issue 10), ours' medians over the runs that played:")
    print(f"{'UDP loss':<9}" + "".join(f" {labels[k]:>26}" for k in keys) + "  all met")
    for pct, targets in rows:
        if not targets:
            print(f"{str(pct) + ' %':<9}  (no target at this level)")
            continue
        cells = []
        for k in keys:
            t = targets[k]
            verdict = t.get("median_met", t["met"])
            verdict = "-" if verdict is None else ("yes" if verdict else "NO")
            cells.append(f"{fmt(t['value'])} {t['op']} {t['target']:g}: {verdict}")
        all_met = all(targets[k]["met"] for k in keys)
        failed = targets.get("runs_failed", 0)
        note = f"  ({failed} run(s) never showed a frame: no target met)" if failed else ""
        print(f"{str(pct) + ' %':<9}" + "".join(f" {c:>26}" for c in cells) +
              f"  {'yes' if all_met else 'NO'}{note}")


def print_machine(machine: dict) -> None:
    print(f"machine: {machine['nproc']} cores ({machine['cpu_model']}), kernel {machine['kernel']}")
    print(f"load average before: {machine['loadavg_before']}  after: "
          f"{machine.get('loadavg_after')}")


# ---------------------------------------------------------------- checks/main


def breakage(results: dict[str, dict[str, DesignResult]]) -> list[str]:
    """What the smoke test fails on: never timings, only things that are broken."""
    problems = []
    for res, by_design in results.items():
        for design, r in by_design.items():
            where = f"{res} {design}"
            if r.server_exit_code not in (0, None):
                problems.append(f"{where}: server exit code {r.server_exit_code} after SIGTERM")
            if not r.browser or not any(b.ok for b in r.browser):
                problems.append(f"{where}: the browser presented no frame")
            if r.browser_whep and not any(b.ok for b in r.browser_whep):
                problems.append(f"{where}: the browser over WHEP presented no frame")
            for s in r.scaling:
                if s.not_run:
                    continue
                if s.ready < s.viewers or s.frames_total == 0 or (s.fps_min or 0) <= 0:
                    problems.append(f"{where}: {s.viewers} viewer(s): {s.ready} receiving, "
                                    f"fps min {s.fps_min}")
                if not s.stages.frames_rendered:
                    problems.append(f"{where}: server rendered no frame")
    return problems


def to_jsonable(obj):
    if dataclasses.is_dataclass(obj):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_jsonable(v) for v in obj]
    return obj


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_jsonable(doc), indent=1) + "\n")
    tmp.replace(path)


def write_charts(json_path: Path) -> list[Path]:
    """PNG charts next to the JSON (bench/charts.py, matplotlib imported only here). Without
    matplotlib in this interpreter, Debian's /usr/bin/python3 draws them if it has it (e.g. when
    python3 on PATH is another installation); otherwise one line and no charts. Never fails
    the run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import charts
        return charts.write_charts(json_path)
    except ImportError:
        pass
    except Exception as e:   # a chart must not break the benchmark
        log(f"charts failed: {e!r}")
        return []
    system_python = Path("/usr/bin/python3")
    if system_python.exists() and Path(sys.executable).resolve() != system_python.resolve():
        r = subprocess.run([str(system_python), str(Path(__file__).resolve().parent / "charts.py"),
                            str(json_path)], capture_output=True, text=True)
        if r.returncode == 0:
            return [Path(line) for line in r.stdout.splitlines() if line.strip()]
        if r.returncode != 3:
            log(f"charts failed: {r.stderr.strip()[-500:]}")
            return []
    log("charts skipped: no matplotlib (apt-get install python3-matplotlib)")
    return []


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="CI smoke test: 720p, 1 and 3 viewers, ~5 s steps; fails only on breakage")
    p.add_argument("--repeats", type=int, default=3, help="browser latency runs per design/res")
    p.add_argument("--browser-seconds", type=float, default=20.0,
                   help="measured seconds per browser run (after page_test's 3 s warm-up)")
    p.add_argument("--window", type=float, default=10.0, help="measured seconds per scaling step")
    p.add_argument("--baseline-max-viewers", type=int, default=10,
                   help="largest viewer count tried with --baseline")
    p.add_argument("--no-scaling-1080p", action="store_true",
                   help="viewer scaling at 1280x720 only (saves ~3.5 min)")
    p.add_argument("--soak", type=float, metavar="MINUTES",
                   help="only run the RSS soak: 10 no-decode viewers at 720p for MINUTES")
    p.add_argument("--loss", type=parse_loss_levels, metavar="N[,N...]",
                   help="only the loss runs: at 720p30, ours and the libwebrtc reference through "
                        "N %% UDP loss, --repeats runs of --browser-seconds each")
    p.add_argument("--loss-designs", type=parse_loss_designs, default=list(LOSS_DESIGNS),
                   metavar="D[,D]", help="with --loss: ours, libwebrtc or both (default)")
    p.add_argument("--loss-hook", choices=LOSS_HOOKS, default="input",
                   help="nftables hook of the loss rule: input (default; the sender cannot tell) "
                        "or output (as tests/browser/run_page_test.sh; Chromium resends what "
                        "was refused)")
    p.add_argument("--server-env", type=parse_server_env, action="append", default=[],
                   metavar="VAR=VALUE",
                   help="extra setting in every server's environment (repeatable), "
                        "e.g. CS_FEC_PERCENT=20")
    p.add_argument("--firefox", action="store_true",
                   help="only (or, with --quick, only a short) Chromium + Firefox at once: VP8's "
                        "encode CPU, Firefox's glass-to-glass")
    p.add_argument("--hd60", action="store_true",
                   help="only 1080p60 to 10 native viewers, and 720p60 glass-to-glass beside "
                        "720p30")
    p.add_argument("--rungs", action="store_true",
                   help="only 3 and 25 native viewers pinned over the ladder's rungs 0/1/2")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output file")
    p.add_argument("--build", type=Path, default=REPO / "build", help="build directory")
    p.add_argument("--server", type=Path, help="server binary (default BUILD/cube-streamer)")
    p.add_argument("--keep-logs", action="store_true", help="keep the server/viewer logs")
    return p.parse_args(argv)


def check_prerequisites(tools: Tools) -> None:
    if os.geteuid() != 0:
        print("run_bench: needs root (ip netns); skipped", file=sys.stderr)
        sys.exit(SKIPPED)
    for path in (tools.server, tools.viewer):
        if not os.access(path, os.X_OK):
            sys.exit(f"run_bench: no executable at {path}")
    if not (PAGE_TEST.parent / "node_modules" / "playwright-core").is_dir():
        log("installing npm dependencies of tests/browser")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PAGE_TEST.parent,
                       check=True, stdout=sys.stderr)


def run_all(ns: Namespace, tools: Tools, prof: Profile) -> dict[str, dict[str, DesignResult]]:
    results: dict[str, dict[str, DesignResult]] = {}
    for res in prof.resolutions:
        results[res_name(res)] = {}
        for design in DESIGNS:
            results[res_name(res)][design] = run_design(ns, tools, design, res, prof,
                                                         res in prof.scaling_resolutions)
    return results


def interrupt(signum, frame) -> None:
    raise KeyboardInterrupt()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the namespace and every child go away.
    signal.signal(signal.SIGTERM, interrupt)
    logs = Path(tempfile.mkdtemp(prefix="cs-bench-"))
    tools = Tools(args.server or args.build / "cube-streamer",
                  args.build / "tests" / "client" / "cs-test-viewer", logs, args.server_env)
    check_prerequisites(tools)
    # Builds the GStreamer plugin registry now, so that its first-use scan is not timed.
    subprocess.run(["gst-inspect-1.0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prof = make_profile(args)
    machine = machine_info()
    started = time.time()
    doc = {"schema": SCHEMA, "tool": "bench/run_bench.py", "profile": prof,
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
           "git_commit": git_commit(), "server_binary": str(tools.server), "fps": FPS,
           "server_env": tools.server_env,
           "machine": machine}
    problems: list[str] = []
    try:
        with Namespace() as ns:
            log(f"namespace {ns.name}: server {ns.server_ip}, viewers {ns.client_ip}; logs {logs}")
            if args.soak:
                doc["soak"] = run_soak(ns, tools, args.soak)
            else:
                if prof.resolutions:
                    results = run_all(ns, tools, prof)
                    doc["results"] = results
                    doc["figures"] = flat_figures(results)
                    problems = breakage(results)
                if prof.loss_levels:
                    doc["loss"] = run_loss(ns, tools, prof)
                    doc.setdefault("figures", {}).update(loss_figures(doc["loss"]))
                    problems += loss_breakage(doc["loss"])
                if prof.sections:
                    doc["sections"] = run_sections(ns, tools, prof)
                    for sec in doc["sections"].values():
                        doc.setdefault("figures", {}).update(sec.figures)
                        problems += sec.problems
    except BrokenRun as e:
        problems.append(str(e))
    except KeyboardInterrupt:
        log(f"interrupted: namespace deleted, children stopped; logs in {logs}")
        return 130
    machine["loadavg_after"] = loadavg()
    doc["duration_s"] = round(time.time() - started, 1)
    doc["problems"] = problems
    write_json(args.out, doc)
    print_machine(machine)
    if "results" in doc:
        print_main_table(doc["results"], prof.repeats)
        print_scaling_table(doc["results"])
    if "loss" in doc:
        print_loss_table(to_jsonable(doc["loss"]))
    if "soak" in doc:
        print_soak(doc["soak"])
    if "sections" in doc:
        print_sections(doc["sections"])
    print(f"\nJSON: {args.out}  ({doc['duration_s']} s)")
    for chart in write_charts(args.out):
        print(f"chart: {chart}")
    return report_problems(problems, args, logs, failed_runs(doc))


def failed_runs(doc: dict) -> int:
    """Browser runs that failed, though not so many as to count as broken."""
    n = 0
    for by_design in (doc.get("results") or {}).values():
        n += sum(1 for r in by_design.values() for b in r.browser if not b.ok)
    for level in (doc.get("loss") or {}).get("levels", []):
        n += sum(1 for d in LOSS_DESIGNS if d in level for r in level[d]["runs"] if not r.ok)
    for sec in (doc.get("sections") or {}).values():
        n += sum(1 for runs in sec.browser.values() for r in runs if not r.ok)
    return n


def report_problems(problems: list[str], args: argparse.Namespace, logs: Path,
                    failed: int = 0) -> int:
    for p in problems:
        print(f"BROKEN: {p}", file=sys.stderr)
    if failed:
        print(f"{failed} browser run(s) failed (their errors are in the JSON); logs kept",
              file=sys.stderr)
    if problems or failed or args.keep_logs:
        log(f"logs kept in {logs}")
    else:
        subprocess.run(["rm", "-rf", str(logs)])
    if not args.out.is_file():
        print("BROKEN: JSON missing", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
