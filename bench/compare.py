#!/usr/bin/env python3
"""Compares two bench/run_bench.py JSON files figure by figure.

  bench/compare.py bench/reference.json bench/results/latest.json [--tolerance 15]
                   [--only 1280x720.ours] [--all]

Prints every figure present in both files: reference, new, new/reference, and
marks WORSE when a figure moved the wrong way by more than the tolerance
(latency, stage times, CPU, RSS, frames lost: higher is worse; fps: lower is
worse). Tiny absolute changes (at most a per-unit floor, e.g. 3 ms or 3 % of a
core) are never marked, so that idle CPU going from 0.1 % to 0.3 % is not a
regression. A figure measured in only one file (e.g. a --quick run against a
full one) is shown but not judged. Exit code 1 if any figure got worse, 0 otherwise. Ratios between
the designs ('RES.ratio.*', 'lossN.ratio.*') are shown only with --all and never judged. Loss
figures ('lossN.*', from run_bench.py --loss) are left out when the two runs dropped packets on
different nftables hooks, and a differing --server-env is pointed out.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# A change smaller than this (in the figure's unit) is noise, whatever the ratio.
ABSOLUTE_FLOOR = {"ms": 3.0, "%": 3.0, "MB": 3.0, "fps": 1.0, "frames": 3.0}


@dataclass
class Row:
    name: str
    unit: str
    better: Optional[str]
    ref: Optional[float]
    new: Optional[float]

    @property
    def ratio(self) -> Optional[float]:
        if self.ref is None or self.new is None or self.ref == 0:
            return None
        return self.new / self.ref

    def worse(self, tolerance: float) -> bool:
        if self.better not in ("lower", "higher") or self.ref is None or self.new is None:
            return False
        delta = self.new - self.ref if self.better == "lower" else self.ref - self.new
        if delta <= ABSOLUTE_FLOOR.get(self.unit, 0.0):
            return False
        return delta > tolerance * abs(self.ref)


def load_run(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"compare: cannot read {path}: {e}")
    if "figures" not in doc:
        sys.exit(f"compare: {path} has no 'figures' (a soak-only or broken run?)")
    return doc


def make_rows(ref: dict[str, dict], new: dict[str, dict], only: Optional[str],
              show_all: bool) -> list[Row]:
    rows = []
    for name in sorted(set(ref) | set(new)):
        if only and not name.startswith(only):
            continue
        if ".ratio." in name and not show_all:
            continue
        r, n = ref.get(name), new.get(name)
        meta = r or n
        rows.append(Row(name, meta.get("unit", ""), meta.get("better"),
                        r.get("value") if r else None, n.get("value") if n else None))
    return rows


def fmt(v: Optional[float], digits: int = 1) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def print_rows(rows: list[Row], tolerance: float) -> int:
    width = max((len(r.name) for r in rows), default=10)
    print(f"{'figure':<{width}} {'unit':>6} {'reference':>10} {'new':>10} {'new/ref':>8}")
    worse = 0
    for r in rows:
        mark = ""
        if (r.ref is None) != (r.new is None):
            mark = "  (only in one file)"
        if r.worse(tolerance):
            mark = "  WORSE"
            worse += 1
        print(f"{r.name:<{width}} {r.unit[:6]:>6} {fmt(r.ref):>10} {fmt(r.new):>10} "
              f"{fmt(r.ratio, 2):>8}{mark}")
    return worse


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="Compare two run_bench.py JSON files.")
    p.add_argument("reference", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--tolerance", type=float, default=15.0,
                   help="percent a figure may get worse before it is marked (default 15)")
    p.add_argument("--only", help="only figures whose name starts with this, e.g. 1280x720.ours")
    p.add_argument("--all", action="store_true", help="also show the ours/baseline ratios")
    args = p.parse_args(argv)
    ref, new = load_run(args.reference), load_run(args.new)
    if ref.get("schema", 1) != new.get("schema", 1):
        # A figure of the same name may mean something else (see SCHEMA in run_bench.py).
        sys.exit(f"compare: schema {ref.get('schema', 1)} against {new.get('schema', 1)}: "
                 "rerun the reference with the same bench/run_bench.py")
    ref_figs, new_figs = ref["figures"], new["figures"]
    ref_loss, new_loss = ref.get("loss") or {}, new.get("loss") or {}
    if ref_loss and new_loss and ref_loss.get("hook") != new_loss.get("hook"):
        print(f"compare: loss dropped on the {ref_loss.get('hook')} hook against the "
              f"{new_loss.get('hook')} hook: loss figures left out")
        ref_figs = {k: v for k, v in ref_figs.items() if not k.startswith("loss")}
        new_figs = {k: v for k, v in new_figs.items() if not k.startswith("loss")}
    if ref.get("server_env", []) != new.get("server_env", []):
        print(f"compare: note: server env {ref.get('server_env', [])} against "
              f"{new.get('server_env', [])}")
    rows = make_rows(ref_figs, new_figs, args.only, args.all)
    worse = print_rows(rows, args.tolerance / 100.0)
    print(f"\n{worse} figure(s) worse by more than {args.tolerance:g} % "
          f"(and more than the absolute floor {ABSOLUTE_FLOOR})")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
