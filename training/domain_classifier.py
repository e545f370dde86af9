"""Multivariate drift by a domain classifier: can a model tell reference rows from current rows?

Per-feature tests compare one marginal at a time, so they miss a change in the joint distribution
(every marginal the same, a correlation flipped). A classifier trained to tell the two windows
apart sees all features at once: its cross-validated ROC AUC is about 0.5 when the windows come
from one distribution and clearly above it when they do not.

    python training/domain_classifier.py <request.json>

Request (retrain.domain-classifier/v1; the TypeScript side is lib/drift/domain-classifier.ts):
    {"contract": "retrain.domain-classifier/v1",
     "referencePath": "/abs/reference.csv", "currentPath": "/abs/current.csv",
     "features": [{"name": "x", "kind": "numeric"}, {"name": "plan", "kind": "categorical"}],
     "seed": 0, "maxRows": 20000, "folds": 5, "threshold": 0.55}

CSV files have a header row and at least the feature columns; empty cells are missing values.
Prints exactly one JSON result line on stdout and nothing else there; progress and logs go to
stderr. Exit 2 (with a message on stderr) for bad input, as the training contract has it.
"""

import contextlib
import importlib.metadata
import json
import os
import platform
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(__file__))
from retrain_contract import (  # noqa: E402
    BadInput,
    check_features,
    read_features,
    read_request,
    require_string,
    run,
    start_watchdog,
)

CONTRACT = "retrain.domain-classifier/v1"
# The same defaults as lib/drift/domain-classifier.ts, for a request written by hand.
DEFAULT_SEED = 0
DEFAULT_MAX_ROWS = 20_000
DEFAULT_FOLDS = 5
DEFAULT_THRESHOLD = 0.55
# Native categoricals take at most max_bins (255) codes: the rarest categories beyond 254 share one.
MAX_CATEGORIES = 255
# Below this many training rows, a 10% early-stopping split is too small to judge by.
EARLY_STOPPING_MIN_ROWS = 1_000
VERSIONED_PACKAGES = ("scikit-learn", "numpy", "pandas")

# Labels of the two windows: an AUC above 0.5 means the model ranks current rows higher.
REFERENCE, CURRENT = 0, 1


def main(request_path):
    start_watchdog()
    request = load_domain_request(request_path)
    out = sys.stdout
    # Only the result line may reach stdout: anything a library prints goes to stderr instead.
    # One thread: the worker runs several commands at once, and the trees' OpenMP threads
    # busy-wait for each other, so on shared cores a fit can take ten times as long; on one core a
    # fold of 32,000 rows and 20 features takes about a second.
    with contextlib.redirect_stdout(sys.stderr), threadpool_limits(limits=1):
        result = classify(request)
    print(json.dumps(result, allow_nan=False), file=out, flush=True)


def classify(request):
    features = request["features"]
    folds = request["folds"]
    rng = np.random.default_rng(request["seed"])
    windows = {}
    for side, key in (("reference", "referencePath"), ("current", "currentPath")):
        try:
            # read_features speaks the training contract, whose features say "type" for our "kind".
            frame, _ = read_features(request[key], [{"name": f["name"], "type": f["kind"]} for f in features])
        except BadInput as error:
            raise BadInput("the %s window: %s" % (side, error))
        if len(frame) < 2 * folds:
            raise BadInput(
                "the %s window has %d rows; %d folds need at least %d rows per side"
                % (side, len(frame), folds, 2 * folds)
            )
        windows[side] = (len(frame), subsample(frame, request["maxRows"], rng))
    reference, current = windows["reference"][1], windows["current"][1]
    log(
        "%d reference and %d current rows (of %d and %d)"
        % (len(reference), len(current), windows["reference"][0], windows["current"][0])
    )

    X, is_categorical = feature_matrix(reference, current, features)
    y = np.concatenate([np.full(len(reference), REFERENCE), np.full(len(current), CURRENT)])
    oof, fitted, fold_aucs = cross_validate(X, y, is_categorical, folds, request["seed"])
    auc = float(roc_auc_score(y, oof))
    log("out-of-fold AUC %.4f (folds: %s)" % (auc, ", ".join("%.4f" % a for a in fold_aucs)))

    # A difference too small to count needs no explaining: on the usual, undrifted, check this
    # saves a prediction per feature and fold.
    importances = None
    if auc >= request["threshold"]:
        importances = feature_importances(X, y, fitted, auc, features, rng)

    return {
        "contract": CONTRACT,
        "auc": auc,
        "foldAucs": fold_aucs,
        "rows": {"reference": len(reference), "current": len(current)},
        "windowRows": {"reference": windows["reference"][0], "current": windows["current"][0]},
        "folds": folds,
        "seed": request["seed"],
        "threshold": request["threshold"],
        "importances": importances,
        "libraryVersions": library_versions(),
    }


def load_domain_request(path):
    request = read_request(path, CONTRACT)
    require_string(request, "referencePath")
    require_string(request, "currentPath")
    request["features"] = check_features(request.get("features"), key="kind")
    request["seed"] = integer(request, "seed", DEFAULT_SEED, 0, 2**32 - 1)  # what sklearn's random_state takes
    request["folds"] = integer(request, "folds", DEFAULT_FOLDS, 2, 100)
    request["maxRows"] = integer(request, "maxRows", DEFAULT_MAX_ROWS, 2 * request["folds"], None)
    threshold = request.setdefault("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.5 < threshold < 1:
        raise BadInput("threshold must be a number above 0.5 and below 1, got %r" % (threshold,))
    return request


def integer(request, key, default, low, high):
    value = request.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = "from %d to %d" % (low, high) if high is not None else "of at least %d" % low
        raise BadInput("%s must be an integer %s, got %r" % (key, bounds, value))
    return value


def subsample(frame, max_rows, rng):
    """At most max_rows rows, drawn uniformly without replacement, kept in file order."""
    if len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=max_rows, replace=False))]


def feature_matrix(reference, current, features):
    """Both windows as one float matrix (reference rows first) and which columns are categorical.

    Numeric: NaN stays (the trees route missing values themselves); +-inf becomes NaN, as the
    per-feature tests leave it out. Categorical: codes from an encoder fitted on both windows, so
    a category seen in only one of them is a code like any other (and a telling one).
    """
    columns = []
    is_categorical = []
    for feature in features:
        name = feature["name"]
        values = np.concatenate([reference[name].to_numpy(), current[name].to_numpy()])
        if feature["kind"] == "numeric":
            values = values.astype(float)
            values[~np.isfinite(values)] = np.nan
        else:
            encoder = OrdinalEncoder(max_categories=MAX_CATEGORIES, dtype=np.float64, encoded_missing_value=np.nan)
            values = encoder.fit_transform(values.reshape(-1, 1).astype(object))[:, 0]
        columns.append(values)
        is_categorical.append(feature["kind"] == "categorical")
    return np.column_stack(columns), np.array(is_categorical)


def cross_validate(X, y, is_categorical, folds, seed):
    """Out-of-fold probabilities of "current", each fold's model and validation rows, fold AUCs."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.empty(len(y))
    fitted = []
    fold_aucs = []
    for k, (train, valid) in enumerate(splitter.split(X, y)):
        model = HistGradientBoostingClassifier(
            categorical_features=is_categorical,
            # The windows may differ much in size; weighting them equally keeps the smaller one in view.
            class_weight="balanced",
            max_iter=200,
            early_stopping=len(train) >= EARLY_STOPPING_MIN_ROWS,
            random_state=seed,
        )
        model.fit(X[train], y[train])
        oof[valid] = model.predict_proba(X[valid])[:, 1]
        fitted.append((model, valid))
        fold_aucs.append(float(roc_auc_score(y[valid], oof[valid])))
        log("fold %d/%d: AUC %.4f after %d iterations" % (k + 1, folds, fold_aucs[-1], model.n_iter_))
    return oof, fitted, fold_aucs


def feature_importances(X, y, fitted, auc, features, rng):
    """How much the out-of-fold AUC drops when one feature's values are shuffled among the
    validation rows of each fold (one shuffle each: cheap, and enough to rank the features).
    Shuffling breaks both a feature's shift and its ties to the others, so a flipped correlation
    shows on both of its features. Largest drop first.
    """
    importances = []
    for j, feature in enumerate(features):
        permuted = np.empty(len(y))
        for model, valid in fitted:
            shuffled = X[valid].copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            permuted[valid] = model.predict_proba(shuffled)[:, 1]
        importances.append({"name": feature["name"], "importance": auc - float(roc_auc_score(y, permuted))})
    importances.sort(key=lambda item: -item["importance"])
    log("AUC drop when shuffled: %s" % ", ".join("%s %.4f" % (i["name"], i["importance"]) for i in importances))
    return importances


def library_versions():
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        versions[package] = importlib.metadata.version(package)
    return versions


def log(message):
    print("domain classifier: %s" % message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    run(main)
