"""Python side of bench/cbpe.ts: NannyML's CBPE on the same synthetic windows.

Not a test and not for direct use: bench/cbpe.ts writes reference.csv (the holdout, with labels)
and analysis.csv (the windows one after another, all of --window-rows rows, no labels used) to a
directory, runs this script, and reads the JSON it prints on stdout.

    python bench/cbpe_peer.py --dir DIR --window-rows N

CBPE is fitted on the reference with NannyML's defaults (isotonic calibration, applied only when
its own cross-validated check says the scores need it) and estimates each window as one chunk.
"""

import argparse
import json
import platform
import sys
import warnings
from pathlib import Path

import pandas as pd

import nannyml as nml

METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--window-rows", type=int, required=True)
    args = parser.parse_args()
    directory = Path(args.dir)
    # round_trip: the same doubles the TypeScript side wrote, not a near neighbour.
    reference = pd.read_csv(directory / "reference.csv", float_precision="round_trip")
    analysis = pd.read_csv(directory / "analysis.csv", float_precision="round_trip")

    estimator = nml.CBPE(
        metrics=METRICS,
        y_pred_proba="y_pred_proba",
        y_pred="y_pred",
        y_true="y_true",
        problem_type="classification_binary",
        chunk_size=args.window_rows,
    )
    with warnings.catch_warnings():
        # "The resulting number of chunks is too low": the reference is one holdout, not a history.
        warnings.simplefilter("ignore", UserWarning)
        estimator.fit(reference)
        results = estimator.estimate(analysis[["y_pred_proba", "y_pred"]]).filter(period="analysis").to_df()

    windows = []
    for _, row in results.iterrows():
        windows.append(
            {
                m: {
                    "value": none_if_nan(row[(m, "value")]),
                    "samplingError": none_if_nan(row[(m, "sampling_error")]),
                    "lower": none_if_nan(row[(m, "lower_confidence_boundary")]),
                    "upper": none_if_nan(row[(m, "upper_confidence_boundary")]),
                }
                for m in METRICS
            }
        )
    json.dump(
        {
            "versions": {"python": platform.python_version(), "nannyml": nml.__version__, "pandas": pd.__version__},
            "needsCalibration": bool(estimator.needs_calibration),
            "windows": windows,
        },
        sys.stdout,
    )


def none_if_nan(x: float):
    return None if pd.isna(x) else float(x)


if __name__ == "__main__":
    main()
