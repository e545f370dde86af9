"""Default scikit-learn trainer for the retrain.train/v1 contract (see CONTRACT.md)."""

import importlib.metadata
import json
import os
import platform
import sys

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError  # raised by fit() for bad param values

sys.path.insert(0, os.path.dirname(__file__))
from retrain_contract import (  # noqa: E402
    BadInput,
    atomic_write_text,
    load_request,
    progress,
    read_features,
    require_string,
    run,
    start_watchdog,
)

CONTRACT = "retrain.train/v1"
MODEL_FILE = "model.joblib"

# algorithm name -> (estimator class, defaults that differ from scikit-learn's)
ESTIMATORS = {
    "classification": {
        # More iterations than sklearn's 100 so scaled, one-hot data converges without warnings.
        "logistic_regression": (LogisticRegression, {"max_iter": 1000}),
        "random_forest": (RandomForestClassifier, {}),
        "gradient_boosting": (GradientBoostingClassifier, {}),
        "dummy": (DummyClassifier, {"strategy": "most_frequent"}),
    },
    "regression": {
        "linear": (LinearRegression, {}),
        "ridge": (Ridge, {}),
        "random_forest": (RandomForestRegressor, {}),
        "gradient_boosting": (GradientBoostingRegressor, {}),
        "dummy": (DummyRegressor, {"strategy": "mean"}),
    },
}
DEFAULT_ALGORITHM = {"classification": "logistic_regression", "regression": "ridge"}
VERSIONED_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib")


def main(request_path):
    start_watchdog()
    request = load_train_request(request_path)
    task = request["task"]

    progress("load", 0.1, "reading %s" % request["trainPath"])
    X, y = read_features(request["trainPath"], request["features"], request["labelColumn"], task)
    check_training_data(X, y, task)
    holdout = None
    if request.get("holdoutPath"):
        holdout = read_features(request["holdoutPath"], request["features"], request["labelColumn"], task)

    model = build_pipeline(request)
    progress("fit", 0.3, "fitting %s on %d rows" % (type(model[-1]).__name__, len(X)))
    try:
        model.fit(X, y)
    except InvalidParameterError as error:
        raise BadInput("invalid estimator parameter: %s" % error)

    progress("score", 0.8, "computing metrics")
    metrics = score(model, X, y, task, "train_")
    if holdout is not None and len(holdout[0]) > 0:
        metrics.update(score(model, holdout[0], holdout[1], task, "holdout_"))

    progress("save", 0.9, "writing model")
    output_dir = request["outputDir"]
    os.makedirs(output_dir, exist_ok=True)
    joblib.dump(model, os.path.join(output_dir, MODEL_FILE))
    result = {
        "contract": CONTRACT,
        "artifacts": {"model": MODEL_FILE},
        "metrics": metrics,
        "libraryVersions": library_versions(),
    }
    if task == "classification":
        result["classes"] = [str(c) for c in model.classes_]
    # result.json last: its appearance is what tells the worker the run succeeded.
    atomic_write_text(os.path.join(output_dir, "result.json"), json.dumps(result, indent=2) + "\n")
    progress("save", 1.0, "done")


def load_train_request(path):
    request = load_request(path, CONTRACT)
    for key in ("trainPath", "outputDir", "labelColumn"):
        require_string(request, key)
    if request.get("holdoutPath") is not None:
        require_string(request, "holdoutPath")
    if request["labelColumn"] in {f["name"] for f in request["features"]}:
        raise BadInput("labelColumn %r is also listed as a feature" % request["labelColumn"])
    params = request.setdefault("params", {})
    if not isinstance(params, dict):
        raise BadInput("params must be an object")
    seed = request.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadInput("seed must be an integer")
    return request


def check_training_data(X, y, task):
    if len(X) == 0:
        raise BadInput("training data has no rows")
    if task == "classification" and y.nunique() < 2:
        raise BadInput("label column has a single class (%r); need at least two" % y.iloc[0])


def build_pipeline(request):
    return Pipeline([("preprocess", build_preprocessor(request["features"])), ("estimator", build_estimator(request))])


def build_preprocessor(features):
    numeric = [f["name"] for f in features if f["type"] == "numeric"]
    categorical = [f["name"] for f in features if f["type"] == "categorical"]
    transformers = []
    if numeric:
        steps = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        transformers.append(("numeric", Pipeline(steps), numeric))
    if categorical:
        steps = [("impute", SimpleImputer(strategy="most_frequent")), ("onehot", OneHotEncoder(handle_unknown="ignore"))]
        transformers.append(("categorical", Pipeline(steps), categorical))
    return ColumnTransformer(transformers)


def build_estimator(request):
    task = request["task"]
    params = dict(request["params"])
    algorithm = params.pop("algorithm", DEFAULT_ALGORITHM[task])
    if algorithm not in ESTIMATORS[task]:
        raise BadInput("unknown %s algorithm %r; choose one of %s" % (task, algorithm, ", ".join(ESTIMATORS[task])))
    cls, defaults = ESTIMATORS[task][algorithm]
    estimator = cls(**defaults)
    if "random_state" in estimator.get_params() and request.get("seed") is not None:
        estimator.set_params(random_state=request["seed"])
    try:
        # set_params rejects unknown names now; bad values are caught when fit() validates them.
        estimator.set_params(**params)
    except ValueError as error:
        raise BadInput("algorithm %r: %s" % (algorithm, error))
    return estimator


def score(model, X, y, task, prefix):
    predicted = model.predict(X)
    if task == "classification":
        metrics = {
            "accuracy": accuracy_score(y, predicted),
            "f1_macro": f1_score(y, predicted, average="macro", zero_division=0),
        }
    else:
        metrics = {
            "rmse": float(np.sqrt(mean_squared_error(y, predicted))),
            "mae": mean_absolute_error(y, predicted),
        }
        if len(y) > 1:  # R^2 is undefined for a single row
            metrics["r2"] = r2_score(y, predicted)
    return {prefix + name: float(value) for name, value in metrics.items()}


def library_versions():
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        versions[package] = importlib.metadata.version(package)
    return versions


if __name__ == "__main__":
    run(main)
