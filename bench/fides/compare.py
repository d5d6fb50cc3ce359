"""The comparison and summary of bench/fides.sh.

    compare.py FERRY_PACKAGE_DIR FIDES_OUT.json FERRY_TIMES FIDES_TIMES

FERRY_PACKAGE_DIR is ferry's access package (data/<database>/<table>.jsonl); FIDES_OUT.json
the driver's output (the rows of Fides' raw access results, by table). FERRY_TIMES and
FIDES_TIMES hold one line per run: "<wall s> <peak RSS KiB> <user s> <system s>" from
/usr/bin/time, and for Fides then the driver's figures for its two requests: seconds of the
first and the second (warm), and this process's CPU seconds for each.
Prints the rows each holds by table, the differences, and one summary.
"""

import glob
import json
import os
import statistics
import sys


def ferry_rows(package: str) -> dict:
    rows = {}
    for path in glob.glob(os.path.join(package, "data", "*", "*.jsonl")):
        table = os.path.basename(path)[: -len(".jsonl")]
        with open(path) as f:
            rows[table] = {json.loads(line)["id"] for line in f if line.strip()}
    return rows


def fides_rows(out: str) -> dict:
    with open(out) as f:
        first = json.load(f)["requests"][0]
    return {t: set(ids) for t, ids in first["rows"].items() if ids}


def read_times(path: str) -> list:
    with open(path) as f:
        return [[float(x) for x in line.split()] for line in f if line.strip()]


def main() -> None:
    package, fides_out, ferry_times, fides_times = sys.argv[1:5]
    ferry, fides = ferry_rows(package), fides_rows(fides_out)
    same = True
    print(f"{'table':<24}{'ferry':>7}{'Fides':>7}{'only ferry':>12}{'only Fides':>12}")
    for table in sorted(set(ferry) | set(fides)):
        a, b = ferry.get(table, set()), fides.get(table, set())
        only_a, only_b = sorted(a - b), sorted(b - a)
        same &= not only_a and not only_b
        note = ""
        if only_a or only_b:
            note = f"   ids only in ferry {only_a[:5]}, only in Fides {only_b[:5]}"
        print(f"{table:<24}{len(a):>7}{len(b):>7}{len(only_a):>12}{len(only_b):>12}{note}")
    total_a = sum(len(v) for v in ferry.values())
    total_b = sum(len(v) for v in fides.values())
    print(f"{'all':<24}{total_a:>7}{total_b:>7}")

    ft, dt = read_times(ferry_times), read_times(fides_times)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    ferry_s, ferry_rss = med([r[0] for r in ft]), med([r[1] for r in ft]) / 1024
    fides_wall, fides_rss = med([r[0] for r in dt]), med([r[1] for r in dt]) / 1024
    ferry_cpu = max(med([r[2] + r[3] for r in ft]), 0.01)  # /usr/bin/time counts in 10 ms
    fides_first, fides_warm = med([r[4] for r in dt]), med([r[5] for r in dt])
    fides_first_cpu, fides_warm_cpu = med([r[6] for r in dt]), med([r[7] for r in dt])
    print()
    print(f"summary ({len(ft)} ferry runs, {len(dt)} Fides runs, medians)")
    print(f"  ferry `requests answer`, the whole process (open register, connect, check map, extract, write package):")
    print(f"      {ferry_s * 1e3:.0f} ms wall, {ferry_cpu * 1e3:.0f} ms CPU, peak RSS {ferry_rss:.1f} MiB")
    print(f"  Fides request, submission to complete, first in its process: {fides_first * 1e3:.0f} ms wall, {fides_first_cpu * 1e3:.0f} ms CPU")
    print(f"  Fides request, second in the same process (warm):            {fides_warm * 1e3:.0f} ms wall, {fides_warm_cpu * 1e3:.0f} ms CPU")
    print(f"  Fides process (imports, then both requests): {fides_wall:.2f} s wall, peak RSS {fides_rss:.1f} MiB")
    print(f"  time  Fides/ferry: {fides_first / ferry_s:.0f}x (first request), {fides_warm / ferry_s:.0f}x (warm); CPU {fides_first_cpu / ferry_cpu:.0f}x, {fides_warm_cpu / ferry_cpu:.0f}x")
    print(f"  RSS   Fides/ferry: {fides_rss / ferry_rss:.1f}x")
    print(f"  same rows: {'yes' if same else 'no'} ({total_a} ferry, {total_b} Fides)")


if __name__ == "__main__":
    main()
