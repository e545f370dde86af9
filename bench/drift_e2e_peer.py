"""Python side of the end-to-end case of bench/drift.ts: data, a measuring launcher, and the peers.

Not a test and not for direct use: bench/drift-e2e.ts runs it, one process per command, and
reads the JSON line it prints last on stdout. Progress goes to stderr.

    python bench/drift_e2e_peer.py generate --rows N --seed S --reference FILE --current FILE
    python bench/drift_e2e_peer.py measure --max-rss-kib K --stdout FILE --stderr FILE -- CMD ARG...
    python bench/drift_e2e_peer.py scipy --reference FILE --current FILE
    python bench/drift_e2e_peer.py evidently --reference FILE --current FILE

generate   two CSV files of N rows and the 25 COLUMNS below (20 numerical, 5 categorical), the
           current file drifted on a few of them (DRIFTED). numpy draws each window in chunks
           of CHUNK_ROWS rows from a generator seeded with (seed, window, chunk), so a seed and
           N always give the same bytes and memory stays bounded by one chunk; pyarrow writes
           the CSV (header, no quoting, an empty field for a missing value). Numbers are
           rounded to a few decimals, as exported data usually is: about 282 bytes a row.
           Needs numpy and pyarrow (the venv of test/requirements-sdk.txt).
measure    runs CMD as a child process and reports its wall time (fork to reap), its peak RSS and
           CPU time from os.wait4 (ru_maxrss, the kernel's high-water mark, KiB on Linux) and
           its exit. Every 50 ms it reads the child's VmRSS; past --max-rss-kib it kills the
           child (SIGKILL) and says so, so a large size cannot take the machine's memory. The
           child's stdout and stderr go to the files named. Standard library only. Every side
           (ours too) runs under it, so all are measured the same way.
scipy      the pandas + scipy peer: pandas.read_csv of both files (defaults), then per column
           the test `retrain drift-report` picks by default (chooseStattest in
           lib/drift/stattests.ts, mirrored in `choose`): with more than 1000 reference values,
           the normed Wasserstein distance (scipy.stats.wasserstein_distance / max(std, 0.001))
           for numbers with more than 5 distinct values, else Jensen-Shannon
           (scipy.spatial.distance.jensenshannon) on the shares of each value or category; with
           1000 or fewer, scipy.stats.ks_2samp or scipy.stats.chisquare. Column kinds as the
           CLI infers them: numeric when pandas read numbers with more than 2 distinct values.
evidently  Evidently's DataDriftPreset (evidently.presets, Report.run) on the two DataFrames from
           pandas.read_csv, then snapshot.dict() to get the per-column scores, as a user would.
           Needs the venv bench/drift.ts --evidently makes (.retrain/bench-venv).

The peers print one JSON line: phase times (imports, read, tests), the tests run per column with
their statistic and p-value, row counts and versions.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

STARTED = time.perf_counter()
CHUNK_ROWS = 1_000_000

# name, kind, how it is drawn (a numpy Generator, a row count, the window) and written.
# The current window differs from the reference on the columns in DRIFTED only.
DRIFTED = ["n01", "n05", "n12", "n19", "c1", "c4"]

C0 = ["red", "green", "blue"]
C1 = ["basic", "standard", "pro", "team", "enterprise"]
C2 = [f"region_{i}" for i in range(8)]
C3 = [f"device_{i:02d}" for i in range(12)]
C4 = [f"city_{i:02d}" for i in range(40)]


def zipf(k, s):
    import numpy as np

    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def numeric_columns():
    """The 20 numerical columns: (name, draw(rng, n, drifted) -> ndarray)."""
    import numpy as np

    r = np.round
    return [
        ("n00", lambda g, n, d: r(g.normal(0, 1, n), 12)),
        ("n01", lambda g, n, d: r(g.normal(52 if d else 50, 10, n), 10)),
        ("n02", lambda g, n, d: r(g.random(n), 12)),
        ("n03", lambda g, n, d: r(g.lognormal(0, 0.5, n), 12)),
        ("n04", lambda g, n, d: r(g.exponential(3, n), 10)),
        ("n05", lambda g, n, d: r(g.normal(0, 1.3 if d else 1, n), 12)),
        ("n06", lambda g, n, d: r(g.gamma(2, 2, n), 10)),
        ("n07", lambda g, n, d: r(g.normal(100, 15, n), 9)),
        ("n08", lambda g, n, d: r(g.beta(2, 5, n), 12)),
        ("n09", lambda g, n, d: g.integers(18, 91, n)),
        ("n10", lambda g, n, d: g.poisson(20, n)),
        ("n11", lambda g, n, d: r(g.lognormal(3.8, 0.6, n), 2)),  # 1 % missing (see chunk)
        ("n12", lambda g, n, d: r(np.where(g.random(n) < (0.1 if d else 0), g.normal(3, 1, n), g.normal(0, 1, n)), 12)),
        ("n13", lambda g, n, d: r(g.uniform(-1000, 1000, n), 8)),
        ("n14", lambda g, n, d: r(g.normal(-5, 2, n), 10)),
        ("n15", lambda g, n, d: r(g.standard_t(5, n), 12)),
        ("n16", lambda g, n, d: r(g.exponential(0.5, n), 12)),
        ("n17", lambda g, n, d: g.integers(0, 1000, n)),
        ("n18", lambda g, n, d: r(g.normal(1000, 50, n), 6)),
        ("n19", lambda g, n, d: r((1.1 if d else 1.0) * g.weibull(1.5, n), 12)),
    ]


def categorical_columns():
    """The 5 categorical columns: (name, labels, probabilities of the reference, of the current)."""
    import numpy as np

    p1 = np.array([0.35, 0.3, 0.2, 0.1, 0.05])
    return [
        ("c0", C0, [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]),
        ("c1", C1, p1, [0.2, 0.25, 0.2, 0.2, 0.15]),
        ("c2", C2, np.full(8, 1 / 8), np.full(8, 1 / 8)),
        ("c3", C3, np.r_[0.005, np.full(11, 0.995 / 11)], np.r_[0.005, np.full(11, 0.995 / 11)]),
        ("c4", C4, zipf(40, 1.0), zipf(40, 1.4)),
    ]


def log(msg):
    print(f"  [e2e] {msg}", file=sys.stderr, flush=True)


def emit(result):
    print(json.dumps(result), flush=True)


def peak_rss_kib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


# ---------------------------------------------------------------------------- generate
def chunk(seed, window, index, n):
    import numpy as np
    import pyarrow as pa

    drifted = window == 1
    names, arrays = [], []
    for i, (name, draw) in enumerate(numeric_columns()):
        g = np.random.default_rng([seed, window, index, i])
        values = draw(g, n, drifted and name in DRIFTED)
        mask = g.random(n) < 0.01 if name == "n11" else None
        names.append(name)
        arrays.append(pa.array(values, mask=mask))
    for i, (name, labels, p_ref, p_cur) in enumerate(categorical_columns()):
        g = np.random.default_rng([seed, window, index, 100 + i])
        p = np.asarray(p_cur if drifted and name in DRIFTED else p_ref, dtype=np.float64)
        codes = g.choice(len(labels), n, p=p / p.sum())
        names.append(name)
        arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(labels)).cast(pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def generate(args):
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    for window, path in enumerate([args.reference, args.current]):
        writer = None
        try:
            for index, first in enumerate(range(0, args.rows, CHUNK_ROWS)):
                batch = chunk(args.seed, window, index, min(CHUNK_ROWS, args.rows - first))
                if writer is None:
                    options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
                    writer = pacsv.CSVWriter(path, batch.schema, write_options=options)
                writer.write_batch(batch)
        finally:
            if writer is not None:
                writer.close()
        log(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB ({time.perf_counter() - started:.1f} s)")
    emit(
        {
            "seconds": time.perf_counter() - started,
            "referenceBytes": os.path.getsize(args.reference),
            "currentBytes": os.path.getsize(args.current),
            "numeric": [name for name, _ in numeric_columns()],
            "categorical": [c[0] for c in categorical_columns()],
            "drifted": DRIFTED,
        }
    )


# ---------------------------------------------------------------------------- measure
def vm_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measure(args):
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        raise SystemExit("measure: no command after --")
    with open(args.stdout, "wb") as out, open(args.stderr, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        stopped_kib = stopped_after = None
        sampled = 0
        try:
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid == child.pid:
                    break
                rss = vm_rss_kib(child.pid)
                if rss is not None:
                    sampled = max(sampled, rss)
                    if rss > args.max_rss_kib and stopped_kib is None:
                        stopped_kib, stopped_after = rss, time.perf_counter() - started
                        os.kill(child.pid, signal.SIGKILL)
                time.sleep(0.05)
        except BaseException:
            child.kill()
            raise
        wall = time.perf_counter() - started
    child.returncode = 0  # reaped by wait4 above: keep Popen from waiting again
    emit(
        {
            "wallSeconds": wall,
            "maxRssKiB": usage.ru_maxrss,
            "sampledRssKiB": sampled,
            "cpuSeconds": usage.ru_utime + usage.ru_stime,
            "exitCode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "stoppedAtKiB": stopped_kib,
            "stoppedAfterSeconds": stopped_after,
        }
    )


# ---------------------------------------------------------------------------- scipy peer
SMALL_REFERENCE_ROWS = 1000  # lib/drift/stattests.ts


def choose(kind, reference_used, distinct_union):
    """chooseStattest (lib/drift/stattests.ts): the test drift-report runs when none is named."""
    if reference_used <= SMALL_REFERENCE_ROWS:
        if kind == "numeric" and distinct_union > 5:
            return "ks"
        return "chisquare" if distinct_union > 2 else "z"
    if kind == "numeric":
        return "jensenshannon" if distinct_union <= 5 else "wasserstein"
    return "jensenshannon"


def kind_of(series):
    """The CLI's inferKind on what pandas read: numbers with more than 2 distinct values are numeric."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        present = series.dropna()
        return "numeric" if present.size < 3 or present.nunique() > 2 else "categorical"
    return "categorical"


def shares(r, c, kind):
    """Shares of each bin (numbers: Evidently's bins) or category, unfilled, both windows aligned."""
    import numpy as np

    if kind == "numeric":
        from drift_peer import numeric_shares

        return numeric_shares(r, c)
    rc, cc = r.value_counts(), c.value_counts()
    keys = rc.index.union(cc.index)
    return (
        rc.reindex(keys, fill_value=0).to_numpy(np.float64) / r.size,
        cc.reindex(keys, fill_value=0).to_numpy(np.float64) / c.size,
    )


def run_test(method, r, c, kind):
    import numpy as np
    from scipy import stats
    from scipy.spatial import distance

    if method == "wasserstein":
        rv, cv = r.to_numpy(np.float64), c.to_numpy(np.float64)
        return float(stats.wasserstein_distance(rv, cv)) / max(float(np.std(rv)), 0.001), None
    if method == "ks":
        res = stats.ks_2samp(r.to_numpy(np.float64), c.to_numpy(np.float64), alternative="two-sided", method="auto")
        return float(res.statistic), float(res.pvalue)
    if method == "jensenshannon":
        rs, cs = shares(r.to_numpy(np.float64) if kind == "numeric" else r, c.to_numpy(np.float64) if kind == "numeric" else c, kind)
        return float(distance.jensenshannon(rs, cs)), None
    if method == "chisquare":
        rc, cc = r.value_counts(), c.value_counts()
        keys = rc.index.union(cc.index)
        rn = rc.reindex(keys, fill_value=0).to_numpy(np.float64)
        cn = cc.reindex(keys, fill_value=0).to_numpy(np.float64)
        res = stats.chisquare(cn, rn * (c.size / r.size))
        return float(res.statistic), float(res.pvalue)
    raise SystemExit(f"the scipy peer has no '{method}' test (the data never needs it)")


def read_both(pd, args):
    """Both files through pandas.read_csv with its defaults, as both peers read them (timed by the caller)."""
    started = time.perf_counter()
    ref = pd.read_csv(args.reference)
    cur = pd.read_csv(args.current)
    log(f"pandas.read_csv: {ref.shape} and {cur.shape} in {time.perf_counter() - started:.2f} s")
    return ref, cur


def scipy_peer(args):
    import numpy as np
    import pandas as pd
    import scipy

    imported = time.perf_counter()
    ref, cur = read_both(pd, args)
    read = time.perf_counter()
    features = []
    common = [c for c in ref.columns if c in cur.columns]
    for name in common:
        kind = kind_of(ref[name])
        r, c = ref[name].dropna(), cur[name].dropna()
        if kind == "categorical":
            r, c = r.astype(str), c.astype(str)
            if r.size >= 20 and r.nunique() == r.size:
                continue  # looksLikeId: the CLI skips it too
        if kind == "numeric":
            # Only "more than 5?" and "more than 2?" matter (the engine counts up to a cap of 5).
            rv, cv = r.to_numpy(), c.to_numpy()
            distinct = np.unique(np.concatenate([rv[:4096], cv[:4096]])).size
            if distinct <= 5:
                distinct = np.unique(np.concatenate([rv, cv])).size
        else:
            distinct = len(set(r.unique()) | set(c.unique()))
        method = choose(kind, r.size, distinct)
        statistic, p_value = run_test(method, r, c, kind)
        features.append({"name": name, "kind": kind, "method": method, "statistic": statistic, "pValue": p_value})
    tested = time.perf_counter()
    emit(
        {
            "phases": {"imports": imported - STARTED, "read": read - imported, "tests": tested - read},
            "rows": {"reference": int(len(ref)), "current": int(len(cur))},
            "features": features,
            "peakRssKiB": peak_rss_kib(),
            "versions": {"python": sys.version.split()[0], "pandas": pd.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        }
    )


# ---------------------------------------------------------------------------- Evidently peer
EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "PSI": "psi",
}


def evidently_peer(args):
    import evidently
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    ref, cur = read_both(pd, args)
    read = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    ran = time.perf_counter()
    metrics = snapshot.dict()["metrics"]
    done = time.perf_counter()
    features = []
    drifted_count = None
    for m in metrics:
        config = m.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            method = config.get("method", "")
            features.append(
                {
                    "name": config.get("column"),
                    "method": EVIDENTLY_METHODS.get(method, method),
                    "score": m.get("value"),
                    "threshold": config.get("threshold"),
                }
            )
        elif config.get("type", "").endswith("DriftedColumnsCount"):
            drifted_count = m.get("value", {}).get("count")
    emit(
        {
            "phases": {"imports": imported - STARTED, "read": read - imported, "tests": ran - read, "results": done - ran},
            "rows": {"reference": int(len(ref)), "current": int(len(cur))},
            "features": features,
            "driftedCount": drifted_count,
            "peakRssKiB": peak_rss_kib(),
            "versions": {"python": sys.version.split()[0], "evidently": evidently.__version__, "pandas": pd.__version__},
        }
    )


# ----------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--rows", type=int, required=True)
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--reference", required=True)
    g.add_argument("--current", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--max-rss-kib", type=int, required=True)
    m.add_argument("--stdout", required=True)
    m.add_argument("--stderr", required=True)
    m.add_argument("cmd", nargs=argparse.REMAINDER)
    for name in ("scipy", "evidently"):
        p = sub.add_parser(name)
        p.add_argument("--reference", required=True)
        p.add_argument("--current", required=True)
    args = ap.parse_args()
    {"generate": generate, "measure": measure, "scipy": scipy_peer, "evidently": evidently_peer}[args.command](args)


if __name__ == "__main__":
    main()
