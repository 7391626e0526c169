#!/usr/bin/env python3
"""Which video encoders of this machine's GStreamer keep up in real time, and how each
ladder rung looks at the same bitrate.

Input: the real renderer's frames (the cube and its timecode strip, NV12, as the server
feeds its encoders), written once to raw files by build/bench/cs-render-frames.

  speed:   per encoder configuration and size, (1) unpaced: the frames as fast as the
           encoder takes them (no clock): frames per second achieved and CPU per frame;
           (2) paced: the same pipeline held to real time (identity sync=true): CPU in % of
           one core, whether it kept up (wall time within 5 % of the frames' duration) and
           the encoder's own per-frame latency (GStreamer's latency tracer, p50/p95).
           VP8/VP9/AV1 take I420 only, so their pipelines carry a videoconvert NV12 -> I420
           (as the server would need); two reference rows give the cost of the source and
           of that conversion alone.
  quality: per bitrate, x264 (the server's settings) and vp8enc (the best real-time
           settings found) at 1280x720@30, 640x360@30 (videoscale of the 720p frames) and
           1280x720@15 (videorate of them); decoded by ffmpeg, the smaller or slower ones
           brought back to 1280x720@30 (bicubic scale, frame repeat), and compared with the
           source frames: SSIM (all planes) and PSNR (average), plus the bitrate achieved.

Needs gst-launch-1.0 (Debian's GStreamer 1.22 plugins: base, good, ugly, bad), ffmpeg, and a
build with the tests (cs-render-frames). Python 3 standard library only.

  bench/encoder_realtime.py                      # both sections, 3 repeats (~15 min)
  bench/encoder_realtime.py --sections speed --sizes 1280x720 --only vp8
  bench/encoder_realtime.py --sections quality --kbps 1000,400
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
FPS = 30
KEYFRAME_S = 1        # the server's default: a keyframe every CS_FPS frames


@dataclass(frozen=True)
class Encoder:
    name: str
    codec: str          # "ref" for the reference rows (no encoder)
    template: str       # gst-launch fragment; {kbps} {bps} {kf} are filled in
    i420: bool          # needs videoconvert NV12 -> I420 in front


def x264(kbps_name: str = "x264") -> Encoder:
    # streaming/src/encoder.cpp configure_x264, and its output caps.
    return Encoder(kbps_name, "h264",
                   "x264enc name=enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} "
                   "key-int-max={kf} bframes=0 sliced-threads=true threads=2 b-adapt=false "
                   "rc-lookahead=0 sync-lookahead=0 vbv-buf-capacity=200 "
                   "! video/x-h264,profile=constrained-baseline,stream-format=byte-stream,"
                   "alignment=au", False)


# The rate control of the server's vp8enc (streaming/src/encoder.cpp configure_vpx).
VP8_COMMON = ("deadline=1 error-resilient=default end-usage=cbr lag-in-frames=0 "
              "keyframe-max-dist={kf} target-bitrate={bps} buffer-size=300 "
              "buffer-initial-size=200 buffer-optimal-size=250 undershoot=95 "
              "max-intra-bitrate=300")


def vp8(cpu_used: int, threads: int, extra: str = "", suffix: str = "") -> Encoder:
    # A negative cpu-used is a fixed speed; a positive one in real time (deadline=1) lets
    # libvpx pick the speed from the wall time each frame took, so from the machine's load.
    return Encoder(f"vp8 cpu-used={cpu_used} threads={threads}{suffix}", "vp8",
                   f"vp8enc name=enc {VP8_COMMON} cpu-used={cpu_used} threads={threads} {extra}",
                   True)


def vp9(cpu_used: int, threads: int) -> Encoder:
    return Encoder(f"vp9 cpu-used={cpu_used} threads={threads}", "vp9",
                   f"vp9enc name=enc deadline=1 threads={threads} row-mt=true tile-columns=1 "
                   "error-resilient=default end-usage=cbr lag-in-frames=0 keyframe-max-dist={kf} "
                   f"target-bitrate={{bps}} buffer-size=1000 buffer-initial-size=500 "
                   f"buffer-optimal-size=600 aq-mode=cyclic-refresh cpu-used={cpu_used}", True)


def av1(cpu_used: int) -> Encoder:
    # libaom: target-bitrate is in kbit/s here. GStreamer's av1enc defaults max-quantizer to
    # 0, which CBR real time aborts on (an assertion in libaom's ratectrl.c): 63 is libaom's.
    return Encoder(f"av1 cpu-used={cpu_used}", "av1",
                   "av1enc name=enc usage-profile=realtime threads=2 row-mt=true tile-columns=1 "
                   "end-usage=cbr lag-in-frames=0 keyframe-max-dist={kf} target-bitrate={kbps} "
                   f"max-quantizer=63 cpu-used={cpu_used}", True)


REFERENCE_ROWS = [
    Encoder("source only", "ref", "identity name=enc", False),
    Encoder("videoconvert NV12->I420", "ref", "identity name=enc", True),
]

SPEED_ENCODERS = [
    x264(),
    vp8(-8, 1), vp8(-12, 1), vp8(-16, 1),
    # libvpx's VP8 row threads wait for each other spinning: on 2 cores shared with the
    # renderer and other work that costs more than it saves (see bench/README.md).
    vp8(-12, 2),
    vp8(16, 1, "", " (auto speed)"),
    vp8(8, 2, "token-partitions=2", " token-partitions=4 (the server's first VP8)"),
    vp9(8, 2), vp9(9, 2), vp9(9, 1),
    av1(8), av1(10),
]

# The VP8 settings the quality section uses (the best real-time one of the speed section).
QUALITY_VP8 = vp8(-12, 1)


def default_kbps(width: int) -> int:
    return 2500 if width >= 1280 else 1000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def percentile(values: list[float], p: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> Optional[float]:
    """utime + stime of a live process (all its threads), from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Timed:
    rc: int
    wall_s: float
    cpu_s: float                       # whole run, start-up included (wait4)
    window_cpu_pct: Optional[float]    # CPU over the window, % of one core


def run_timed(cmd: list[str], env: Optional[dict] = None, stderr_path: Optional[Path] = None,
              timeout_s: float = 300, window: Optional[tuple[float, float]] = None) -> Timed:
    """Runs cmd; with window (from, to) in s after the start also samples its CPU then, which
    leaves the start-up (process, plugins, first frames) out of the real-time figure."""
    err = open(stderr_path, "w") if stderr_path else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        deadline = t0 + timeout_s
        marks: list[tuple[float, float]] = []
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.monotonic()
            if window and len(marks) < 2 and now - t0 >= window[len(marks)]:
                cpu = proc_cpu_s(proc.pid)
                if cpu is not None:
                    marks.append((now, cpu))
            if now > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        pct = None
        if len(marks) == 2 and marks[1][0] > marks[0][0]:
            pct = (marks[1][1] - marks[0][1]) / (marks[1][0] - marks[0][0]) * 100
        return Timed(proc.returncode, wall, usage.ru_utime + usage.ru_stime, pct)
    finally:
        if stderr_path:
            err.close()


def source(path: Path, width: int, height: int, frames: int) -> str:
    frame = width * height * 3 // 2
    return (f"filesrc location={path} blocksize={frame} num-buffers={frames} "
            f"! rawvideoparse width={width} height={height} format=nv12 framerate={FPS}/1")


def filled(enc: Encoder, kbps: int, fps: int) -> str:
    return enc.template.format(kbps=kbps, bps=kbps * 1000, kf=fps * KEYFRAME_S)


def speed_pipeline(enc: Encoder, src: Path, width: int, height: int, frames: int,
                   paced: bool) -> list[str]:
    parts = [source(src, width, height, frames)]
    if enc.i420:
        parts.append("videoconvert ! video/x-raw,format=I420")
    if paced:
        parts.append("identity sync=true")
    parts.append(filled(enc, default_kbps(width), FPS))
    parts.append("fakesink sync=false")
    return ["gst-launch-1.0", "-q"] + " ! ".join(parts).split()


LATENCY_RE = re.compile(r"element-latency, .*element=\(string\)enc, .*time=\(guint64\)(\d+)")


def speed_once(enc: Encoder, src: Path, width: int, height: int, frames: int, paced_frames: int,
               work: Path) -> dict:
    t = run_timed(speed_pipeline(enc, src, width, height, frames, False), timeout_s=120)
    ok = t.rc == 0
    out = {"unpaced": {"rc": t.rc, "frames": frames, "wall_s": t.wall_s, "cpu_s": t.cpu_s,
                       "fps": frames / t.wall_s if ok else None,
                       "cpu_ms_per_frame": t.cpu_s / frames * 1e3 if ok else None}}
    env = dict(os.environ, GST_TRACERS="latency(flags=element)", GST_DEBUG="GST_TRACER:7",
               GST_DEBUG_NO_COLOR="1")
    trace = work / "trace.log"
    media_s = paced_frames / FPS
    # CPU from 1.5 s in to 0.5 s before the frames run out: start-up left out.
    t = run_timed(speed_pipeline(enc, src, width, height, paced_frames, True), env, trace,
                  timeout_s=media_s * 4 + 30, window=(1.5, max(2.0, media_s - 0.5)))
    lat = [int(m.group(1)) / 1e6 for m in LATENCY_RE.finditer(trace.read_text(errors="replace"))]
    trace.unlink()
    # The first frames (encoder set-up) are left out of the latency figures too.
    lat = lat[FPS // 2:]
    out["paced"] = {"rc": t.rc, "frames": paced_frames, "wall_s": t.wall_s, "cpu_s": t.cpu_s,
                    "cpu_pct": t.window_cpu_pct if t.rc == 0 else None,
                    "kept_up": t.rc == 0 and t.wall_s <= media_s * 1.05 + 0.5,
                    "latency_p50_ms": median(lat), "latency_p95_ms": percentile(lat, 95),
                    "latency_samples": len(lat)}
    return out


def summarise_speed(runs: list[dict]) -> dict:
    def med(section: str, key: str):
        vals = [r[section][key] for r in runs if r[section].get(key) is not None]
        return median(vals)
    return {"fps": med("unpaced", "fps"), "cpu_ms_per_frame": med("unpaced", "cpu_ms_per_frame"),
            "paced_cpu_pct": med("paced", "cpu_pct"),
            "kept_up": f"{sum(r['paced']['kept_up'] for r in runs)}/{len(runs)}",
            "latency_p50_ms": med("paced", "latency_p50_ms"),
            "latency_p95_ms": med("paced", "latency_p95_ms")}


def run_speed(args, sources: dict, work: Path) -> list[dict]:
    rows = []
    encoders = REFERENCE_ROWS + [e for e in SPEED_ENCODERS
                                 if not args.only or e.codec in args.only or e.codec == "ref"]
    for (w, h) in args.sizes:
        for enc in encoders:
            runs = []
            for i in range(args.repeats):
                runs.append(speed_once(enc, sources[(w, h)], w, h, args.frames, args.paced_frames,
                                       work))
            s = summarise_speed(runs)
            rows.append({"size": f"{w}x{h}", "encoder": enc.name, "codec": enc.codec,
                         "kbps": None if enc.codec == "ref" else default_kbps(w),
                         "pipeline": " ! ".join(filter(None, [
                             "videoconvert ! video/x-raw,format=I420" if enc.i420 else "",
                             filled(enc, default_kbps(w), FPS)])),
                         "summary": s, "runs": runs, "loadavg_after": loadavg()})
            log(f"speed {w}x{h} {enc.name:32s} fps {fmt(s['fps'])} cpu/frame "
                f"{fmt(s['cpu_ms_per_frame'])} ms paced cpu {fmt(s['paced_cpu_pct'])} % kept up "
                f"{s['kept_up']} enc latency p50 {fmt(s['latency_p50_ms'])} p95 "
                f"{fmt(s['latency_p95_ms'])} ms  load {loadavg()[0]:.2f}")
    return rows


# --- quality ---------------------------------------------------------------------------------

VARIANTS = {  # name: (width, height, fps)
    "1280x720@30": (1280, 720, 30),
    "640x360@30": (640, 360, 30),
    "1280x720@15": (1280, 720, 15),
}

SSIM_RE = re.compile(r"SSIM Y:([\d.]+) .*All:([\d.]+)")
PSNR_RE = re.compile(r"PSNR y:([\d.inf]+) .*average:([\d.inf]+)")


def quality_encoders() -> list[Encoder]:
    return [x264(), QUALITY_VP8]


def encode_variant(enc: Encoder, src: Path, frames: int, variant: str, kbps: int,
                   out: Path) -> dict:
    w, h, fps = VARIANTS[variant]
    parts = [source(src, 1280, 720, frames)]
    if (w, h) != (1280, 720):
        parts.append(f"videoscale ! video/x-raw,width={w},height={h}")
    if fps != FPS:
        parts.append(f"videorate ! video/x-raw,framerate={fps}/1")
    if enc.i420:
        parts.append("videoconvert ! video/x-raw,format=I420")
    parts.append(filled(enc, kbps, fps))
    if enc.codec == "h264":
        parts.append("h264parse")   # byte-stream to what matroskamux takes
    parts.append(f"matroskamux ! filesink location={out}")
    cmd = ["gst-launch-1.0", "-q"] + " ! ".join(parts).split()
    t = run_timed(cmd)
    seconds = frames / FPS
    return {"rc": t.rc, "bytes": out.stat().st_size if out.exists() else None,
            "kbps_achieved": out.stat().st_size * 8 / seconds / 1000 if out.exists() else None,
            "encode_cpu_s": t.cpu_s}


def compare(decoded: Path, src: Path, frames: int, stream_fps: int, every: int = 1,
            prefix: str = "") -> dict:
    """SSIM and PSNR of the decoded stream, scaled back to 1280x720, against the source.
    every=1: each of the 30 source frames a second against what a 30 Hz display shows then
    (a 15 fps stream's frame twice); every=N: only the source frames the stream has.
    Both sides get exact timestamps (frame count in a 1/fps time base) first: Matroska's
    whole milliseconds (67 for 1/15 s) made ffmpeg pair frames with the wrong neighbour."""
    dec = f"settb=1/{stream_fps},setpts=N,scale=1280:720:flags=bicubic"
    if every == 1:
        dec += f",fps={FPS},format=yuv420p"
        ref = f"settb=1/{FPS},setpts=N,format=yuv420p"
    else:
        dec += ",format=yuv420p"
        ref = (f"select='not(mod(n\\,{every}))',settb=1/{FPS // every},setpts=N,"
               "format=yuv420p")
    lavfi = (f"[0:v]{dec},split[d1][d2];[1:v]{ref},split[r1][r2];[d1][r1]ssim;[d2][r2]psnr")
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(decoded),
           "-f", "rawvideo", "-pix_fmt", "nv12", "-s", "1280x720", "-r", str(FPS),
           "-i", str(src), "-lavfi", lavfi, "-frames:v", str(frames // every), "-f", "null", "-"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    ssim = SSIM_RE.search(p.stderr)
    psnr = PSNR_RE.search(p.stderr)
    return {prefix + "compare_rc": p.returncode,
            prefix + "ssim_y": float(ssim.group(1)) if ssim else None,
            prefix + "ssim_all": float(ssim.group(2)) if ssim else None,
            prefix + "psnr_y_db": float(psnr.group(1)) if psnr else None,
            prefix + "psnr_avg_db": float(psnr.group(2)) if psnr else None}


def run_quality(args, sources: dict, work: Path) -> list[dict]:
    rows = []
    src = sources[(1280, 720)]
    for kbps in args.kbps:
        for enc in quality_encoders():
            for variant in VARIANTS:
                mkv = work / "q.mkv"
                e = encode_variant(enc, src, args.quality_frames, variant, kbps, mkv)
                fps = VARIANTS[variant][2]
                q = compare(mkv, src, args.quality_frames, fps) if e["rc"] == 0 else {}
                if e["rc"] == 0 and fps != FPS:
                    q.update(compare(mkv, src, args.quality_frames, fps, FPS // fps,
                                     "own_frames_"))
                mkv.unlink(missing_ok=True)
                rows.append({"kbps": kbps, "encoder": enc.codec, "variant": variant,
                             "settings": filled(enc, kbps, VARIANTS[variant][2]), **e, **q})
                log(f"quality {kbps} kbit/s {enc.codec:5s} {variant:12s} achieved "
                    f"{fmt(e['kbps_achieved'])} kbit/s SSIM {fmt(q.get('ssim_all'), 4)} "
                    f"(Y {fmt(q.get('ssim_y'), 4)}) PSNR {fmt(q.get('psnr_avg_db'), 2)} dB "
                    f"(Y {fmt(q.get('psnr_y_db'), 2)})" + (
                        f"; its own frames only: SSIM {fmt(q.get('own_frames_ssim_all'), 4)} "
                        f"PSNR {fmt(q.get('own_frames_psnr_avg_db'), 2)} dB"
                        if "own_frames_ssim_all" in q else ""))
    return rows


# --- output ----------------------------------------------------------------------------------

def fmt(v, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def print_tables(doc: dict) -> None:
    print(f"machine: {doc['machine']['nproc']} cores, {doc['machine']['cpu']}; "
          f"load {doc['machine']['loadavg_before']} -> {doc['machine']['loadavg_after']}")
    if doc.get("speed"):
        print("\n| size | encoder | kbit/s | unpaced fps | CPU ms/frame | paced CPU % | kept up "
              "| enc latency p50 / p95 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in doc["speed"]:
            s = r["summary"]
            print(f"| {r['size']} | {r['encoder']} | {r['kbps'] or '—'} | {fmt(s['fps'])} | "
                  f"{fmt(s['cpu_ms_per_frame'])} | {fmt(s['paced_cpu_pct'])} | {s['kept_up']} | "
                  f"{fmt(s['latency_p50_ms'])} / {fmt(s['latency_p95_ms'])} |")
    if doc.get("quality"):
        print("\n| kbit/s | encoder | variant | achieved kbit/s | SSIM all (Y) | PSNR avg (Y) dB "
              "| own frames only: SSIM / PSNR dB |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in doc["quality"]:
            own = (f"{fmt(r['own_frames_ssim_all'], 4)} / {fmt(r['own_frames_psnr_avg_db'], 2)}"
                   if "own_frames_ssim_all" in r else "(all)")
            print(f"| {r['kbps']} | {r['encoder']} | {r['variant']} | {fmt(r['kbps_achieved'])} | "
                  f"{fmt(r.get('ssim_all'), 4)} ({fmt(r.get('ssim_y'), 4)}) | "
                  f"{fmt(r.get('psnr_avg_db'), 2)} ({fmt(r.get('psnr_y_db'), 2)}) | {own} |")


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size wants WxH, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sections", default="speed,quality", help="speed, quality or both")
    p.add_argument("--sizes", default="1280x720,640x360",
                   type=lambda t: [parse_size(s) for s in t.split(",")])
    p.add_argument("--only", type=lambda t: t.split(","), default=[],
                   help="speed: only these codecs (h264,vp8,vp9,av1)")
    p.add_argument("--frames", type=int, default=600, help="unpaced frames per run")
    p.add_argument("--paced-frames", type=int, default=240, help="paced frames per run (8 s)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--kbps", default=[1000, 400], type=lambda t: [int(x) for x in t.split(",")])
    p.add_argument("--quality-frames", type=int, default=300, help="frames encoded per rung (10 s)")
    p.add_argument("--build", type=Path, default=REPO / "build")
    p.add_argument("--work", type=Path, default=Path("/tmp/cs-encoder-realtime"),
                   help="where the raw frames go (~1 GB)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "encoders.json")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sections = set(args.sections.split(","))
    renderer = args.build / "bench" / "cs-render-frames"
    if not renderer.exists():
        log(f"{renderer} missing: build with -DBUILD_TESTING=ON")
        return 1
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = set(args.sizes) | ({(1280, 720)} if "quality" in sections else set())
    frames = max(args.frames, args.paced_frames, args.quality_frames)
    sources = {}
    for (w, h) in sorted(sizes):
        path = args.work / f"cube-{w}x{h}-{frames}.nv12"
        if not path.exists() or path.stat().st_size != w * h * 3 // 2 * frames:
            log(f"rendering {frames} frames at {w}x{h} to {path}")
            subprocess.run([str(renderer), str(w), str(h), str(FPS), str(frames), str(path)],
                           check=True)
        sources[(w, h)] = path
    doc = {"machine": {"nproc": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
                       "gstreamer": gst_version(), "loadavg_before": loadavg()},
           "profile": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    if "speed" in sections:
        doc["speed"] = run_speed(args, sources, args.work)
    if "quality" in sections:
        doc["quality"] = run_quality(args, sources, args.work)
    doc["machine"]["loadavg_after"] = loadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print_tables(doc)
    log(f"wrote {args.out}")
    return 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def gst_version() -> str:
    p = subprocess.run(["gst-launch-1.0", "--version"], capture_output=True, text=True)
    return p.stdout.splitlines()[1] if p.returncode == 0 and p.stdout else "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
