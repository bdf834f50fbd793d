"""Accuracy on the labelled corpus (../shared/corpus/diffs): precision and recall per threat type.

Each case is scanned as a PR would be seen without author data (the diff and the commit subject
as PR title), offline. Two hard checks, printed at the end and reflected in the exit code:
  1. every ``expected_threats`` entry of every case is found;
  2. no benign case gets a high or critical threat outside its ``acceptable_low_severity`` types.

Precision counts a reported type (severity medium or above) as correct when the case lists it in
``expected_threats``, ``stretch_threats`` or ``acceptable_low_severity``. Low findings are
informational and only shown.

Usage: python bench/accuracy.py [--corpus DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanners.pipeline import scan_pr  # noqa: E402
from scanners.workspace import snapshot_from_diff  # noqa: E402

LOUD = {"high", "critical"}
COUNTED = {"medium", "high", "critical"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "diffs")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    cases = sorted(args.corpus.glob("*.patch"))
    if not cases:
        print(f"no cases under {args.corpus}")
        return 2

    true_positive: dict[str, int] = defaultdict(int)
    false_positive: dict[str, int] = defaultdict(int)
    false_negative: dict[str, int] = defaultdict(int)
    stretch_hits: list[str] = []
    failures: list[str] = []
    rows = []
    for patch in cases:
        label = json.loads(patch.with_suffix(".json").read_text(encoding="utf-8"))
        snapshot = snapshot_from_diff(patch.read_bytes().decode("utf-8", errors="replace"))
        snapshot.title = label.get("source", {}).get("subject") or ""
        report = scan_pr(snapshot, scanned_at=datetime.now(UTC), llm=None, llm_unavailable_reason="offline benchmark")
        expected = set(label.get("expected_threats", []))
        stretch = set(label.get("stretch_threats", []))
        acceptable = {entry.split(" ")[0] for entry in label.get("acceptable_low_severity", [])}
        found_any = {t.type for t in report.threats}
        found_counted = {t.type for t in report.threats if t.severity.value in COUNTED}
        for kind in expected:
            if kind in found_any:
                true_positive[kind] += 1
            else:
                false_negative[kind] += 1
                failures.append(f"{patch.stem}: expected {kind} not found")
        for kind in found_counted - expected:
            if kind in stretch or kind in acceptable:
                if kind in stretch:
                    stretch_hits.append(f"{patch.stem}: {kind}")
                continue
            if kind in {"scan_error"}:
                failures.append(f"{patch.stem}: scan_error")
                continue
            false_positive[kind] += 1
        if label["kind"] == "benign":
            for threat in report.threats:
                if threat.severity.value in LOUD and threat.type not in acceptable:
                    failures.append(f"{patch.stem}: benign case got {threat.severity.value} {threat.rule} ({threat.detail[:80]})")
        rows.append((patch.stem, label["kind"], report.verdict.value, report.score, sorted(expected), sorted(found_counted)))
        if args.verbose:
            for threat in report.threats:
                print(f"  {patch.stem}: {threat.severity.value:8} {threat.rule} {threat.path}:{threat.line}")

    print(f"{'case':58} {'kind':9} {'verdict':10} {'score':>5}  expected -> found (medium+)")
    for name, kind, verdict, score, expected, found in rows:
        print(f"{name:58} {kind:9} {verdict:10} {score:5d}  {','.join(expected) or '-'} -> {','.join(found) or '-'}")
    print()
    print(f"{'threat type':26} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>10} {'recall':>7}")
    kinds = sorted(set(true_positive) | set(false_positive) | set(false_negative))
    for kind in kinds:
        tp, fp, fn = true_positive[kind], false_positive[kind], false_negative[kind]
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        print(f"{kind:26} {tp:3d} {fp:3d} {fn:3d} {precision:10.2f} {recall:7.2f}")
    total_tp, total_fp, total_fn = sum(true_positive.values()), sum(false_positive.values()), sum(false_negative.values())
    print(f"{'all':26} {total_tp:3d} {total_fp:3d} {total_fn:3d} {total_tp / max(1, total_tp + total_fp):10.2f} {total_tp / max(1, total_tp + total_fn):7.2f}")
    print(f"\nstretch threats also found: {len(stretch_hits)}")
    for hit in stretch_hits:
        print(f"  {hit}")
    if failures:
        print(f"\nFAILED checks ({len(failures)}):")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("\nall checks passed: every expected threat found; no benign case has an unexpected high/critical threat")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
