#!/usr/bin/env python3
"""PNG charts of a bench/run_bench.py JSON file, written next to it.

  bench/charts.py bench/results/latest.json     # prints the paths it wrote

Each chart only when its data is in that file:

  STEM-latency.png  glass-to-glass latency per design (ours, baseline), per resolution: the
                    percentiles of every browser run, and the median over the runs;
  STEM-loss.png     presented fps, longest freeze and glass-to-glass p95 against UDP loss,
                    ours beside the libwebrtc reference, with the issue's targets;
  STEM-scaling.png  server CPU and RSS against native viewers, per design and resolution.

A chart of the same stem that this run has no data for is deleted, so that the PNGs beside a
JSON always belong to it. Needs matplotlib (Debian: python3-matplotlib); run_bench.py imports
this module only when it writes charts, and runs without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

CHART_NAMES = ("latency", "loss", "scaling")
COLOURS = {"ours": "#1f77b4", "baseline": "#ff7f0e", "libwebrtc": "#2ca02c"}
PERCENTILES = (("min", "min"), ("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("max", "max"))


def _pyplot():
    import matplotlib   # lazily: the benchmark runs without it
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def chart_path(json_path: Path, name: str) -> Path:
    return json_path.with_name(f"{json_path.stem}-{name}.png")


def _median(values: list[float]) -> Optional[float]:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


# ------------------------------------------------------------------ latency


def latency_runs(doc: dict) -> dict[str, dict[str, list[dict]]]:
    """res -> design -> the screencast summaries (p50, p95, ...) of its ok browser runs."""
    out: dict[str, dict[str, list[dict]]] = {}
    for res, by_design in (doc.get("results") or {}).items():
        for design, r in by_design.items():
            runs = [((b.get("page") or {}).get("screencast") or {}) for b in r.get("browser", [])
                    if b.get("ok")]
            runs = [c for c in runs if c.get("p50") is not None]
            if runs:
                out.setdefault(res, {})[design] = runs
    return out


def latency_chart(plt, doc: dict, path: Path) -> bool:
    data = latency_runs(doc)
    if not data:
        return False
    fig, axes = plt.subplots(1, len(data), figsize=(6.2 * len(data), 4.6), squeeze=False)
    xs = list(range(len(PERCENTILES)))
    for ax, (res, by_design) in zip(axes[0], data.items()):
        for design, runs in by_design.items():
            colour = COLOURS.get(design, "grey")
            for c in runs:
                ax.plot(xs, [c.get(k) for k, _ in PERCENTILES], color=colour, alpha=0.3, lw=1)
            med = [_median([c.get(k) for c in runs]) for k, _ in PERCENTILES]
            ax.plot(xs, med, color=colour, lw=2.5, marker="o",
                    label=f"{design} (median of {len(runs)} run{'s' if len(runs) > 1 else ''})")
            for x, v in zip(xs, med):
                if v is not None:
                    ax.annotate(f"{v:.0f}", (x, v), textcoords="offset points", xytext=(6, -4),
                                fontsize=8, color=colour)
        ax.set_xticks(xs, [label for _, label in PERCENTILES])
        ax.set_xlabel("percentile of the frames drawn in a run")
        ax.set_ylabel("render → drawn by Chrome's compositor (ms)")
        ax.set_title(f"{res}")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    fig.suptitle("Glass-to-glass latency per design: render → drawn in headless Chromium\n"
                 "(DevTools screencast; thin lines: single runs, thick: median over them)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------- loss


LOSS_PANELS = (("presented_fps", "presented fps", "higher"),
               ("longest_freeze_ms", "longest freeze (ms)", "lower"),
               ("latency_p95_ms", "glass-to-glass p95 (ms)", "lower"))


def level_label(level: dict) -> str:
    """'5 %', and a line per design whose runs did not all play (medians are over those that did)."""
    lines = [f"{level['loss_pct']} %"]
    for design in ("ours", "libwebrtc"):
        s = (level.get(design) or {}).get("summary") or {}
        if s.get("runs_ok", 0) < s.get("runs", 0):
            lines.append(f"{design}:\n{s['runs_ok']}/{s['runs']} played")
    return "\n".join(lines)


def loss_chart(plt, doc: dict, path: Path) -> bool:
    section = doc.get("loss") or {}
    levels = section.get("levels") or []
    if not levels:
        return False
    targets = {int(k): v for k, v in (section.get("targets") or {}).items()}
    pcts = [lv["loss_pct"] for lv in levels]
    xs_all = list(range(len(pcts)))   # one slot per level, whatever their spacing
    fig, axes = plt.subplots(1, len(LOSS_PANELS), figsize=(15, 5))
    designs = (("ours", "ours"), ("libwebrtc", "libwebrtc reference (Chromium → Chromium)"))
    for ax, (key, label, better) in zip(axes, LOSS_PANELS):
        top = 0.0
        for i, (design, name) in enumerate(designs):
            xs, ys, lo, hi = [], [], [], []
            for x, lv in zip(xs_all, levels):
                s = (lv.get(design) or {}).get("summary") or {}
                v = s.get(key)
                if v is None:
                    continue
                sp = s.get(key + "_spread") or [v, v]
                xs.append(x + (i - 0.5) * 0.18)
                ys.append(v)
                lo.append(v - sp[0])
                hi.append(sp[1] - v)
                top = max(top, sp[1])
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], color=COLOURS[design], marker="o", lw=2,
                            capsize=4, label=name)
                for x, y in zip(xs, ys):
                    ax.annotate(f"{y:.0f}" if y >= 100 else f"{y:.1f}", (x, y), fontsize=8,
                                textcoords="offset points", xytext=(-8 if x < round(x) else 6, 4),
                                ha="right" if x < round(x) else "left", color=COLOURS[design])
        tx = [x for x, p in zip(xs_all, pcts) if p in targets and key in targets[p]]
        if tx:
            tv = [targets[pcts[x]][key] for x in tx]
            top = max([top] + tv)
            ax.scatter(tx, tv, marker="_", s=900, color="red", lw=2, zorder=5,
                       label="issue's target for ours (fps: at least; freeze, latency: at most)")
        ax.set_xticks(xs_all, [level_label(lv) for lv in levels], fontsize=8)
        ax.set_xlim(-0.6, len(pcts) - 0.4)
        ax.set_xlabel("UDP loss, each way", labelpad=2)
        ax.set_title(label)
        if key == "presented_fps":
            ax.set_ylim(min(20.0, ax.get_ylim()[0]), 31.5)
        else:
            ax.set_ylim(0, top * 1.15 if top else 1)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    reps = section.get("repeats")
    secs = section.get("browser_seconds") or 0
    env = " ".join(section.get("server_env") or [])
    fig.suptitle(f"{section.get('resolution', '')} @ {section.get('fps', '')} fps through UDP loss "
                 f"(nftables {section.get('hook', '?')} hook): median of {reps} run(s) of "
                 f"{secs:g} s, bars min..max" + (f"; server: {env}" if env else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ------------------------------------------------------------------ scaling


def scaling_series(doc: dict) -> list[tuple[str, str, list[tuple[int, float, float]]]]:
    """(design, res, [(viewers, cpu %, rss MB)]) for every design/resolution with scaling steps."""
    out = []
    for res, by_design in (doc.get("results") or {}).items():
        for design, r in by_design.items():
            pts = [(s["viewers"], s["proc"]["cpu_pct"], s["proc"]["rss_steady_mb"])
                   for s in r.get("scaling", []) if not s.get("not_run") and s.get("proc")]
            if pts:
                out.append((design, res, pts))
    return out


def scaling_chart(plt, doc: dict, path: Path) -> bool:
    series = scaling_series(doc)
    if not series:
        return False
    resolutions = list(dict.fromkeys(res for _, res, _ in series))
    fig, axes = plt.subplots(2, len(resolutions), figsize=(6.5 * len(resolutions), 8),
                             squeeze=False)
    rows = ((1, "server CPU (% of one core)"), (2, "server RSS, steady (MB)"))
    for col, res in enumerate(resolutions):
        for row, (idx, label) in enumerate(rows):
            ax = axes[row][col]
            mine = [(design, pts) for design, r, pts in series if r == res]
            highest: dict[int, float] = {}   # per viewer count: its label goes above, others below
            for _, pts in mine:
                for p in pts:
                    highest[p[0]] = max(highest.get(p[0], p[idx]), p[idx])
            for design, pts in mine:
                colour = COLOURS.get(design, "grey")
                ax.plot([p[0] for p in pts], [p[idx] for p in pts], marker="o", lw=2,
                        color=colour, label=design)
                for p in pts:
                    above = p[idx] >= highest[p[0]]
                    ax.annotate(f"{p[idx]:.0f}", (p[0], p[idx]), fontsize=8, color=colour,
                                textcoords="offset points", xytext=(5, 5 if above else -12))
            viewers = set(highest)
            ax.set_xticks(sorted(viewers))
            ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
            ax.set_title(f"{label}, {res}", fontsize=10)
            if row == len(rows) - 1:
                ax.set_xlabel("native viewers (cs-test-viewer --no-decode)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=9, loc="upper left")
    fig.suptitle("Viewer scaling: one render and encode for all (ours) against one pipeline per "
                 "viewer (baseline; not run above --baseline-max-viewers)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------- main


def write_charts(json_path: Path, doc: Optional[dict] = None) -> list[Path]:
    """Writes every chart this run has data for; deletes the stem's others. Raises ImportError
    when matplotlib is missing."""
    plt = _pyplot()
    if doc is None:
        doc = json.loads(json_path.read_text())
    written = []
    for name, make in (("latency", latency_chart), ("loss", loss_chart),
                       ("scaling", scaling_chart)):
        path = chart_path(json_path, name)
        if make(plt, doc, path):
            written.append(path)
        elif path.exists():
            path.unlink()
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        paths = write_charts(Path(argv[0]))
    except ImportError as e:
        print(f"charts: matplotlib missing ({e}); apt-get install python3-matplotlib",
              file=sys.stderr)
        return 3
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
