#!/usr/bin/env python3
"""Prints the ours/tokio table of benches/RESULTS.md from criterion's estimates.

Reads <criterion dir>/<group>/<fn>/new/estimates.json as left by `cargo bench --bench core`, pairs
every `ours*` function with the `tokio*` function of the same suffix in the same group (plain
`tokio` when there is none), and prints a markdown table of the point estimates and their ratio,
then any other function of those groups (the harness floor) as a reference point. Standard
library only.

The criterion dir is found the way criterion finds it: $CRITERION_HOME, else
$CARGO_TARGET_DIR/criterion, else target/criterion next to this script's package.

Usage: python3 benches/ratios.py [--mean]   (median by default: steadier on a shared machine)
"""

import json
import os
import sys
from pathlib import Path

# group -> the ratio ours/tokio it should stay at or under (None: no target, shown for context).
TARGETS = {
    "triggered": 0.1,
    "triggered_contended": 0.1,
    "check": None,
    # issue 9's targets
    "child_create_drop": 0.5,
    "children_two_threads": 0.5,
    "wait_poll_drop": 0.45,
    "waits_two_threads": None,
    "fanout_100k": 0.8,
    "trigger_to_all_woken": None,
    # benches/deadline.rs
    "timeout_create_drop": 0.5,
    "timed_wait_poll_drop": 0.6,
    "timeout_two_threads": 0.5,
    "timed_waits_two_threads": None,
    "timed_wait_ready": None,
}

# Two-thread groups: (two threads, one thread, the least throughput gain of two threads over one;
# None: no target, shown for context).
# A two-thread estimate is per pair of operations, so the gain is 2 * one thread / two threads.
SCALING = {
    "children_two_threads": ("", "_one_thread", 1.3),
    "waits_two_threads": ("", "_one_thread", None),
}

# Groups whose tokio side comes in named variants: each is compared with ours in a row of its own.
BASELINES = {
    "timeout_create_drop": ("tokio_armed", "tokio_setup"),
    "timed_wait_poll_drop": ("tokio_armed",),
    "timeout_two_threads": ("tokio_armed",),
    "timed_waits_two_threads": ("tokio_armed",),
}


def criterion_dir() -> Path:
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def estimate(path: Path, statistic: str) -> float | None:
    """The point estimate in nanoseconds, or None if this benchmark has not been run."""
    try:
        with open(path / "new" / "estimates.json") as f:
            return json.load(f)[statistic]["point_estimate"]
    except FileNotFoundError:
        return None


def human(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main() -> int:
    statistic = "mean" if "--mean" in sys.argv[1:] else "median"
    root = criterion_dir()
    rows, notes = [], []
    for group, target in TARGETS.items():
        group_dir = root / group
        if not group_dir.is_dir():
            continue
        for ours_dir in sorted(group_dir.glob("ours*")):
            suffix = ours_dir.name[len("ours"):]
            ours = estimate(ours_dir, statistic)
            # A variant of ours with no tokio twin (check/ours_result) is compared with plain tokio.
            tokio_dir = group_dir / f"tokio{suffix}"
            baselines = BASELINES.get(group) or (tokio_dir.name if tokio_dir.is_dir() else "tokio",)
            for baseline in baselines:
                tokio = estimate(group_dir / baseline, statistic)
                if ours is None or tokio is None:
                    continue
                ratio = ours / tokio
                if target is None:
                    verdict, shown = "-", "-"
                else:
                    verdict, shown = ("met" if ratio <= target else "MISSED"), f"<= {target}"
                name = group + (f" ({suffix.lstrip('_')})" if suffix else "")
                if group in BASELINES:
                    name += f" (vs {baseline})"
                rows.append(f"| {name} | {human(ours)} | {human(tokio)} | {ratio:.3f} | {shown} | {verdict} |")
        for other in sorted(group_dir.iterdir()):
            # Reference points such as the harness floor: not a comparison, printed below the table.
            if other.name.startswith(("ours", "tokio")) or other.name == "report":
                continue
            value = estimate(other, statistic)
            if value is None:
                continue
            note = f"{group}/{other.name}: {human(value)}"
            # floor_x64 stands under ours_x64 and tokio_x64; any other floor under plain tokio (or
            # the group's first baseline).
            twin = group_dir / ("tokio" + other.name[len("floor"):])
            plain = group_dir / (BASELINES[group][0] if group in BASELINES else "tokio")
            tokio = estimate(twin if twin.is_dir() else plain, statistic)
            if tokio is not None:
                # A floor's own ratio: the lowest ratio the rows it stands under could show.
                note += f" ({value / tokio:.3f} of tokio)"
            notes.append(note)
    if not rows:
        print(f"no criterion estimates under {root}: run `cargo bench --bench core` first", file=sys.stderr)
        return 1
    print(f"| group | ours ({statistic}) | tokio ({statistic}) | ours/tokio | target | |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    for group, (two, one, target) in SCALING.items():
        for side in ("ours", "tokio"):
            two_threads = estimate(root / group / f"{side}{two}", statistic)
            one_thread = estimate(root / group / f"{side}{one}", statistic)
            if two_threads is None or one_thread is None:
                continue
            gain = 2 * one_thread / two_threads
            note = f"{group}: {side} two threads give {gain:.2f}x one thread's throughput"
            if target is not None:
                verdict = "met" if gain >= target else "MISSED"
                note += f" (target for ours >= {target}: {verdict if side == 'ours' else '-'})"
            notes.append(note)
    if notes:
        print()
        print("Reference points (" + statistic + "): " + "; ".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
