"""Python side of bench/data.ts: makes the data, loads it into PostgreSQL, and is the pandas peer.

Not a test and not for direct use: bench/data.ts runs it with the venv of test/requirements-sdk.txt
(numpy, pandas, pyarrow, psycopg, SQLAlchemy), one process per command, and reads the JSON line
it prints last on stdout. Progress goes to stderr. The PostgreSQL URL comes from the environment
(BENCH_DATABASE_URL), never from the command line.

    python bench/data_peer.py versions
    python bench/data_peer.py generate --rows N --seed S [--csv FILE] [--parquet FILE]
    python bench/data_peer.py load-postgres --csv FILE
    python bench/data_peer.py read --source csv|parquet|postgres [--path FILE] [--query SQL]

generate       N rows of COLUMNS (below), written in chunks of CHUNK_ROWS rows, each chunk from
               its own numpy generator seeded with (seed, chunk index): the same seed and N give
               the same bytes, and memory stays bounded by one chunk. CSV and Parquet are
               written by pyarrow from the same record batches (CSV: header, no quoting, an
               empty field for a missing value; Parquet: pyarrow's defaults, snappy, one row
               group per chunk).
load-postgres  (re)creates table bench_rows with COLUMNS' SQL types, COPYs the CSV into it,
               adds the primary key on customer_id, then VACUUM ANALYZE.
read           the pandas peer: pandas.read_csv, pandas.read_parquet (pyarrow), or
               pandas.read_sql of the query through a SQLAlchemy engine (psycopg 3). Times the
               call alone (imports and engine creation are not in it) and reports the process's
               peak RSS (getrusage ru_maxrss, KiB on Linux) and its RSS right after the imports.
"""

import argparse
import json
import os
import resource
import sys
import time

CHUNK_ROWS = 1_000_000
TABLE = "bench_rows"

# name, role (id | numeric | categorical | label), SQL type. numeric columns are integers or
# floats rounded to a few decimals, as exported data usually is.
COLUMNS = [
    ("customer_id", "id", "text"),
    ("tenure_months", "numeric", "integer"),
    ("monthly_spend", "numeric", "double precision"),
    ("support_tickets", "numeric", "integer"),
    ("seats", "numeric", "integer"),
    ("logins_30d", "numeric", "integer"),
    ("session_minutes", "numeric", "double precision"),
    ("discount_pct", "numeric", "double precision"),
    ("late_payments", "numeric", "integer"),
    ("nps", "numeric", "integer"),
    ("usage_gb", "numeric", "double precision"),
    ("api_calls_k", "numeric", "double precision"),
    ("contract_months", "numeric", "integer"),
    ("account_age_days", "numeric", "integer"),
    ("adoption_score", "numeric", "double precision"),
    ("errors_7d", "numeric", "integer"),
    ("balance", "numeric", "double precision"),
    ("plan", "categorical", "text"),
    ("region", "categorical", "text"),
    ("churned", "label", "text"),
]
PLANS = ["basic", "standard", "pro", "enterprise"]
PLAN_P = [0.4, 0.3, 0.2, 0.1]
REGIONS = ["north", "south", "east", "west", "central", "overseas"]
# Share of rows whose balance is missing (an empty CSV field, a Parquet or SQL null).
MISSING_BALANCE = 0.01


def log(msg):
    print(f"  [python] {msg}", file=sys.stderr, flush=True)


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def emit(result):
    print(json.dumps(result), flush=True)


def chunk(seed, index, first, n):
    """Rows first … first+n-1 as a pyarrow RecordBatch (numpy generator seeded with (seed, index))."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng([seed, index])
    ids = pc.binary_join_element_wise(
        "C", pc.utf8_lpad(pa.array(np.arange(first, first + n, dtype=np.int64)).cast(pa.string()), 9, "0"), ""
    )
    tenure = rng.integers(1, 73, n)
    spend = np.round(rng.lognormal(3.8, 0.6, n), 2)
    tickets = rng.poisson(1.2, n)
    plan_codes = rng.choice(len(PLANS), n, p=PLAN_P)
    seats = rng.geometric(0.05, n) * (1 + plan_codes)
    logins = rng.poisson(18, n)
    session = np.round(rng.gamma(2.0, 9.0, n), 1)
    discount = np.round(np.where(rng.random(n) < 0.6, 0.0, rng.uniform(0, 30, n)), 2)
    late = rng.poisson(0.3, n)
    nps = rng.integers(0, 11, n)
    usage = np.round(rng.exponential(40.0, n), 3)
    api_calls = np.round(rng.lognormal(1.0, 1.2, n), 2)
    contract = rng.choice(np.array([1, 12, 24, 36]), n, p=[0.5, 0.3, 0.15, 0.05])
    age = tenure * 30 + rng.integers(0, 30, n)
    adoption = np.round(rng.beta(2.0, 3.0, n), 4)
    errors = rng.poisson(2.0, n)
    balance = np.round(rng.normal(0.0, 150.0, n), 2)
    balance_missing = rng.random(n) < MISSING_BALANCE
    region_codes = rng.integers(0, len(REGIONS), n)
    score = -1.6 - 0.04 * tenure + 0.35 * tickets + 0.5 * late - 0.15 * (nps - 5) - 0.8 * (contract >= 12) + rng.normal(0, 1, n)
    churned = np.where(rng.random(n) < 1 / (1 + np.exp(-score)), "yes", "no")
    arrays = [
        ids,
        pa.array(tenure),
        pa.array(spend),
        pa.array(tickets),
        pa.array(seats),
        pa.array(logins),
        pa.array(session),
        pa.array(discount),
        pa.array(late),
        pa.array(nps),
        pa.array(usage),
        pa.array(api_calls),
        pa.array(contract),
        pa.array(age),
        pa.array(adoption),
        pa.array(errors),
        pa.array(balance, mask=balance_missing),
        pa.array(np.array(PLANS)[plan_codes]),
        pa.array(np.array(REGIONS)[region_codes]),
        pa.array(churned),
    ]
    return pa.RecordBatch.from_arrays(arrays, names=[c[0] for c in COLUMNS])


def generate(args):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    started = time.perf_counter()
    csv_writer = parquet_writer = None
    written = 0
    try:
        for index, first in enumerate(range(0, args.rows, CHUNK_ROWS)):
            batch = chunk(args.seed, index, first, min(CHUNK_ROWS, args.rows - first))
            if args.csv:
                if csv_writer is None:
                    csv_writer = pacsv.CSVWriter(args.csv, batch.schema, write_options=pacsv.WriteOptions(quoting_style="none", quoting_header="none"))
                csv_writer.write_batch(batch)
            if args.parquet:
                if parquet_writer is None:
                    parquet_writer = pq.ParquetWriter(args.parquet, batch.schema)
                parquet_writer.write_batch(batch, row_group_size=CHUNK_ROWS)
            written += batch.num_rows
            if args.rows > CHUNK_ROWS:
                log(f"generated {written:,} of {args.rows:,} rows ({time.perf_counter() - started:.1f} s)")
    finally:
        if csv_writer is not None:
            csv_writer.close()
        if parquet_writer is not None:
            parquet_writer.close()
    emit(
        {
            "rows": written,
            "seconds": time.perf_counter() - started,
            "csvBytes": os.path.getsize(args.csv) if args.csv else None,
            "parquetBytes": os.path.getsize(args.parquet) if args.parquet else None,
            "columns": [{"name": name, "role": role} for name, role, _ in COLUMNS],
        }
    )


def database_url():
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("BENCH_DATABASE_URL is not set")
    return url


def load_postgres(args):
    import psycopg

    started = time.perf_counter()
    size = os.path.getsize(args.csv)
    with psycopg.connect(database_url()) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} ({', '.join(f'{name} {sql}' for name, _, sql in COLUMNS)})")
        sent = 0
        with conn.cursor() as cur, open(args.csv, "rb") as f:
            with cur.copy(f"COPY {TABLE} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while data := f.read(1 << 20):
                    copy.write(data)
                    sent += len(data)
                    if sent % (256 << 20) < len(data):
                        log(f"COPY {sent / size:.0%} ({time.perf_counter() - started:.1f} s)")
        copied = time.perf_counter() - started
        conn.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (customer_id)")
        conn.commit()
        conn.autocommit = True
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        rows = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        table_bytes = conn.execute(f"SELECT pg_total_relation_size('{TABLE}')").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    emit(
        {
            "rows": rows,
            "copySeconds": copied,
            "seconds": time.perf_counter() - started,
            "tableBytes": table_bytes,
            "serverVersion": version,
        }
    )


def read(args):
    started = time.perf_counter()
    import pandas as pd

    engine = None
    if args.source == "postgres":
        import sqlalchemy

        url = database_url()
        engine = sqlalchemy.create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
    import_seconds = time.perf_counter() - started
    import_kib = peak_rss_kib()

    started = time.perf_counter()
    if args.source == "csv":
        df = pd.read_csv(args.path)
    elif args.source == "parquet":
        df = pd.read_parquet(args.path)
    else:
        with engine.connect() as conn:
            df = pd.read_sql(sqlalchemy.text(args.query), conn)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    if engine is not None:
        engine.dispose()
    emit(
        {
            "seconds": seconds,
            "rows": len(df),
            "columns": df.shape[1],
            "peakKiB": usage.ru_maxrss,
            "importKiB": import_kib,
            "importSeconds": import_seconds,
            "cpuSeconds": usage.ru_utime + usage.ru_stime,
        }
    )


def versions(_args):
    import platform

    import numpy
    import pandas
    import psycopg
    import pyarrow
    import sqlalchemy

    emit(
        {
            "python": platform.python_version(),
            "pandas": pandas.__version__,
            "numpy": numpy.__version__,
            "pyarrow": pyarrow.__version__,
            "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__})",
            "sqlalchemy": sqlalchemy.__version__,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("versions").set_defaults(run=versions)
    g = sub.add_parser("generate")
    g.add_argument("--rows", type=int, required=True)
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--csv")
    g.add_argument("--parquet")
    g.set_defaults(run=generate)
    p = sub.add_parser("load-postgres")
    p.add_argument("--csv", required=True)
    p.set_defaults(run=load_postgres)
    r = sub.add_parser("read")
    r.add_argument("--source", choices=["csv", "parquet", "postgres"], required=True)
    r.add_argument("--path")
    r.add_argument("--query")
    r.set_defaults(run=read)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
