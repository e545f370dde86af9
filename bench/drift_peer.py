"""Python side of bench/drift.ts: the same per-feature drift statistics, with scipy or with Evidently.

Not a test and not for direct use: bench/drift.ts writes the generated columns to a directory
(one little-endian binary file per column and window, plus manifest.json), runs this script once
per size and mode, and reads back the JSON written to --out. Progress goes to stderr.

    python bench/drift_peer.py --dir DIR --mode scipy|evidently --repeats R --out FILE

Modes:
  scipy      the statistics written out with scipy/numpy, as the engine documents them:
             ks_2samp(method='auto'); wasserstein_distance / max(np.std(ref), 0.001);
             Evidently-style bins (Sturges histogram when the reference has > 20 distinct values,
             else one bin per value; zero shares filled) for PSI and Jensen-Shannon;
             chisquare(cur counts, ref counts * n_cur / n_ref); jensenshannon on unfilled shares.
             Categorical columns are counted straight from their uint8 codes (np.bincount).
  evidently  Evidently's own legacy stat tests (evidently.legacy.calculations.stattests) on
             pandas Series: ks (p-value only), wasserstein (normed), psi, chisquare (p-value only),
             jensenshannon. Needs a venv with evidently (bench/drift.ts --evidently makes one).

Columns are memory-mapped (np.memmap, read-only): both sides read the same bytes. Every file is
checked against the XOR checksum in the manifest, which also touches every page before timing.
"""

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

GROUPS = ["ks", "wasserstein", "psi_num", "chisquare", "jensenshannon", "psi_cat"]


def log(msg):
    print(f"  [peer] {msg}", file=sys.stderr, flush=True)


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def xor32(mm):
    """XOR of the bytes as little-endian uint32 words, zero-padded to a multiple of 4."""
    raw = np.asarray(mm).view(np.uint8)
    whole = raw.size - raw.size % 4
    x = int(np.bitwise_xor.reduce(raw[:whole].view("<u4"))) if whole else 0
    if whole < raw.size:
        tail = bytes(raw[whole:]) + b"\0" * (4 - raw.size % 4)
        x ^= int.from_bytes(tail, "little")
    return f"{x:08x}"


def load(directory):
    manifest = json.loads((directory / "manifest.json").read_text())
    cols = {"ref": {}, "cur": {}}
    for f in manifest["numeric"] + manifest["categorical"]:
        dtype = "<f8" if f in manifest["numeric"] else "<u1"
        for window in ("ref", "cur"):
            path = directory / f["files"][window]
            mm = np.memmap(path, dtype=dtype, mode="r")
            expected = manifest["checksums"][f["files"][window]]
            if xor32(mm) != expected:
                raise SystemExit(f"checksum mismatch for {path}: the two sides would not read the same data")
            cols[window][f["name"]] = mm
    return manifest, cols


# ---------------------------------------------------------------------------- scipy side
def more_than_20_distinct(x):
    """nunique(x) > 20, exactly; the first 4096 values usually decide it without a full np.unique."""
    return np.unique(x[:4096]).size > 20 or np.unique(x).size > 20


def fill_zeroes(shares):
    out = shares.copy()
    nz = out[out != 0]
    if nz.size:
        m = nz.min()
        np.place(out, out == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return out


def psi_of(rs, cs):
    rf, cf = fill_zeroes(rs), fill_zeroes(cs)
    return float(np.sum((rf - cf) * np.log(rf / cf)))


def numeric_shares(r, c):
    if more_than_20_distinct(r):
        edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
        return np.histogram(r, edges)[0] / len(r), np.histogram(c, edges)[0] / len(c)
    rk, rn = np.unique(r, return_counts=True)
    ck, cn = np.unique(c, return_counts=True)
    keys = np.union1d(rk, ck)
    rc = np.zeros(keys.size)
    cc = np.zeros(keys.size)
    rc[np.searchsorted(keys, rk)] = rn
    cc[np.searchsorted(keys, ck)] = cn
    return rc / len(r), cc / len(c)


def category_counts(r, c, k):
    """Counts per category present in either window, in code order (= sorted label order)."""
    rc = np.bincount(r, minlength=k)
    cc = np.bincount(c, minlength=k)
    present = (rc + cc) > 0
    return rc[present].astype(np.float64), cc[present].astype(np.float64)


def run_scipy(manifest, ref, cur):
    out = {g: {} for g in GROUPS}
    times = {}
    num = [f["name"] for f in manifest["numeric"]]
    cat = [(f["name"], len(f["categories"])) for f in manifest["categorical"]]

    t = time.perf_counter()
    for n in num:
        res = stats.ks_2samp(ref[n], cur[n], alternative="two-sided", method="auto")
        out["ks"][n] = {"statistic": float(res.statistic), "pValue": float(res.pvalue)}
    times["ks"] = time.perf_counter() - t

    t = time.perf_counter()
    for n in num:
        norm = max(float(np.std(ref[n])), 0.001)
        out["wasserstein"][n] = {"statistic": float(stats.wasserstein_distance(ref[n], cur[n])) / norm}
    times["wasserstein"] = time.perf_counter() - t

    t = time.perf_counter()
    for n in num:
        out["psi_num"][n] = {"statistic": psi_of(*numeric_shares(ref[n], cur[n]))}
    times["psi_num"] = time.perf_counter() - t

    t = time.perf_counter()
    for n, k in cat:
        rc, cc = category_counts(ref[n], cur[n], k)
        if np.any(rc == 0):
            raise SystemExit(f"{n}: a category absent from reference; the engine would fall back to jensenshannon")
        res = stats.chisquare(cc, rc * (len(cur[n]) / len(ref[n])))
        out["chisquare"][n] = {"statistic": float(res.statistic), "pValue": float(res.pvalue)}
    times["chisquare"] = time.perf_counter() - t

    t = time.perf_counter()
    for n, k in cat:
        rc, cc = category_counts(ref[n], cur[n], k)
        out["jensenshannon"][n] = {"statistic": float(distance.jensenshannon(rc / len(ref[n]), cc / len(cur[n])))}
    times["jensenshannon"] = time.perf_counter() - t

    t = time.perf_counter()
    for n, k in cat:
        rc, cc = category_counts(ref[n], cur[n], k)
        out["psi_cat"][n] = {"statistic": psi_of(rc / len(ref[n]), cc / len(cur[n]))}
    times["psi_cat"] = time.perf_counter() - t
    return out, times


# ---------------------------------------------------------------------------- Evidently side
def evidently_inputs(manifest, cols, rows=None):
    import pandas as pd

    series = {}
    for f in manifest["numeric"]:
        series[f["name"]] = pd.Series(np.asarray(cols[f["name"]][:rows]))
    for f in manifest["categorical"]:
        labels = np.array(f["categories"], dtype=object)
        series[f["name"]] = pd.Series(labels[np.asarray(cols[f["name"]][:rows])])
    return series


def run_evidently(manifest, ref, cur):
    from evidently.legacy.calculations.stattests import (
        chi_stat_test,
        jensenshannon_stat_test,
        ks_stat_test,
        psi_stat_test,
        wasserstein_stat_test,
    )
    from evidently.legacy.core import ColumnType

    num = [f["name"] for f in manifest["numeric"]]
    cat = [f["name"] for f in manifest["categorical"]]
    plan = [
        ("ks", num, ks_stat_test, ColumnType.Numerical, "pValue"),
        ("wasserstein", num, wasserstein_stat_test, ColumnType.Numerical, "statistic"),
        ("psi_num", num, psi_stat_test, ColumnType.Numerical, "statistic"),
        ("chisquare", cat, chi_stat_test, ColumnType.Categorical, "pValue"),
        ("jensenshannon", cat, jensenshannon_stat_test, ColumnType.Categorical, "statistic"),
        ("psi_cat", cat, psi_stat_test, ColumnType.Categorical, "statistic"),
    ]
    out = {g: {} for g in GROUPS}
    times = {}
    for group, names, test, kind, field in plan:
        t = time.perf_counter()
        for n in names:
            out[group][n] = {field: float(test(ref[n], cur[n], kind, None).drift_score)}
        times[group] = time.perf_counter() - t
    return out, times


# ----------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--mode", choices=["scipy", "evidently"], required=True)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--warmup-rows", type=int, default=20000)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()

    manifest, cols = load(args.dir)
    log(f"{args.mode}: {manifest['rows']} rows per window memory-mapped and checksummed")
    if args.mode == "scipy":
        run = run_scipy
        ref, cur = cols["ref"], cols["cur"]
        warm_ref = {k: v[: args.warmup_rows] for k, v in ref.items()}
        warm_cur = {k: v[: args.warmup_rows] for k, v in cur.items()}
    else:
        import evidently

        run = run_evidently
        # Building the pandas Series (object dtype for labels) is input preparation: not timed.
        ref, cur = evidently_inputs(manifest, cols["ref"]), evidently_inputs(manifest, cols["cur"])
        warm_ref = evidently_inputs(manifest, cols["ref"], args.warmup_rows)
        warm_cur = evidently_inputs(manifest, cols["cur"], args.warmup_rows)
    run(manifest, warm_ref, warm_cur)  # imports, first-call paths: not timed
    baseline = rss_kib()

    runs = []
    results = None
    for i in range(args.repeats):
        results, times = run(manifest, ref, cur)
        runs.append(times)
        if args.repeats <= 10 or (i + 1) % 25 == 0 or i == args.repeats - 1:  # the per-column case: every 25th
            log(f"{args.mode}: run {i + 1}/{args.repeats}: {sum(times.values()):.2f} s")

    try:
        from threadpoolctl import threadpool_info

        blas = [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for d in threadpool_info()]
    except ImportError:
        blas = None
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    if args.mode == "evidently":
        import pandas as pd

        versions["evidently"] = evidently.__version__
        versions["pandas"] = pd.__version__
    args.out.write_text(
        json.dumps(
            {
                "mode": args.mode,
                "runs": runs,
                "results": results,
                "baselineRssKiB": baseline,
                "peakRssKiB": peak_rss_kib(),
                "versions": versions,
                "blas": blas,
                "openblasEnv": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
            }
        )
    )


if __name__ == "__main__":
    main()
