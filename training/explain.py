"""Which features pushed a prediction: per-row feature contributions of a default-trainer model.

    python training/explain.py <request.json>

Request (retrain.contributions/v1; the TypeScript side is lib/contributions.ts). The model's
fields are those of a retrain.predict/v1 request; the rows are given inline, one object of
feature values per prediction (a number, a string, or null for missing):
    {"contract": "retrain.contributions/v1", "task": "classification",
     "modelDir": "/abs/model-artifacts", "artifacts": {"model": "model.joblib"},
     "features": [{"name": "tenure_months", "type": "numeric"}, {"name": "plan", "type": "categorical"}],
     "classes": ["no", "yes"], "positiveClass": "yes",
     "rows": [{"tenure_months": 9, "plan": "basic"}],
     "categoryCounts": {"plan": {"counts": {"basic": 700, "pro": 300}, "missing": 12}}}

For each row: the model's prediction (as predict.py makes it), a base, a raw output `value`, and
the contribution of each original feature, with base + sum(contributions) == value up to floating
point. One-hot columns are summed back to their categorical feature.

- Linear models: contribution = coefficient x (transformed value - transformed training mean),
  summed per feature; value = decision_function (classification) or predict (regression). The
  mean of a StandardScaler output is 0 on the training data; the mean of a one-hot column is its
  category's share of the training rows, from `categoryCounts` (the version's reference profile,
  missing values counted as the imputer's fill). So base = the model's mean raw output on the
  training data. Without counts a one-hot column is measured from 0 (the encoder's all-zero
  reference): method "linear-reference", base = intercept + the means that are known.
- Tree ensembles: the Saabas path attribution. Each split on a row's path credits the change in
  node value (child - parent) to the split's feature; the root's value is the base. Averaged over
  a forest's trees; gradient boosting sums learning_rate x changes over its trees, in raw-score
  space, with the init estimator's raw prediction added to the base.
- Anything else (dummy models, other estimators, other preprocessing): method "unsupported" with
  a reason; predictions are still given when the model can make them.

Prints exactly one JSON line on stdout and nothing else there. Exit 2 (with a message on stderr)
for bad input, as train.py and predict.py do.
"""

import contextlib
import json
import math
import os
import sys

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

sys.path.insert(0, os.path.dirname(__file__))
from predict import load_model, predict_rows  # noqa: E402
# feature_column is what read_features applies to each CSV column: the logged values are turned
# into exactly what predict.py would have fed the model for the same cells.
from retrain_contract import BadInput, feature_column, load_request, require_string, run, start_watchdog  # noqa: E402

CONTRACT = "retrain.contributions/v1"
# Estimators whose raw output is coefficients . transformed row + intercept (no link function).
LINEAR = (
    LogisticRegression,
    LogisticRegressionCV,
    SGDClassifier,
    LinearRegression,
    Ridge,
    RidgeCV,
    Lasso,
    ElasticNet,
    SGDRegressor,
)
FORESTS = (
    RandomForestClassifier,
    RandomForestRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    DecisionTreeClassifier,
    DecisionTreeRegressor,
)
BOOSTING = (GradientBoostingClassifier, GradientBoostingRegressor)
# base + sum(contributions) must give the raw output this closely (relative to its size), or the
# decomposition is not trusted and the model is reported as unsupported.
TOLERANCE = 1e-6
# What base, value and the contributions are measured in, for the note.
UNITS = {
    "log-odds": "log-odds",
    "logit": "logit (softmax score)",
    "probability": "probability",
    "value": "predicted value",
}


class Unsupported(Exception):
    """The model is outside what this script can decompose: reported in the output, not an error."""


def main(request_path):
    start_watchdog()
    request = load_explain_request(request_path)
    out = sys.stdout
    # Only the result line may reach stdout: anything a library prints goes to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        result = explain(request)
    print(json.dumps(result, allow_nan=False), file=out, flush=True)


def load_explain_request(path):
    request = load_request(path, CONTRACT)
    require_string(request, "modelDir")
    artifacts = request.get("artifacts")
    if not isinstance(artifacts, dict) or not isinstance(artifacts.get("model"), str):
        raise BadInput("artifacts.model must name the model file")
    classes = request.get("classes")
    if classes is not None and (not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)):
        raise BadInput("classes must be a list of strings or null")
    positive = request.get("positiveClass")
    if positive is not None:
        if request["task"] != "classification":
            raise BadInput("positiveClass is only for classification")
        if not isinstance(positive, str) or (classes is not None and positive not in classes):
            raise BadInput("positiveClass %r is not one of classes %s" % (positive, classes))
    rows = request.get("rows")
    if not isinstance(rows, list) or not rows:
        raise BadInput("rows must be a non-empty list of objects of feature values")
    counts = request.setdefault("categoryCounts", {})
    if not isinstance(counts, dict) or not all(valid_counts(c) for c in counts.values()):
        raise BadInput('categoryCounts must map features to {"counts": {category: integer}, "missing": integer}')
    return request


def valid_counts(entry):
    def count(n):
        return isinstance(n, int) and not isinstance(n, bool) and n >= 0

    return (
        isinstance(entry, dict)
        and isinstance(entry.get("counts"), dict)
        and all(count(n) for n in entry["counts"].values())
        and count(entry.get("missing"))
    )


def rows_frame(rows, features):
    """The rows as the model's input frame, with the dtypes predict.py gives a CSV's columns."""
    cells = {f["name"]: [] for f in features}
    for index, row in enumerate(rows):
        where = "row %d of %d" % (index + 1, len(rows))
        if not isinstance(row, dict):
            raise BadInput("%s must be an object of feature values" % where)
        missing = [f["name"] for f in features if f["name"] not in row]
        if missing:
            raise BadInput("%s lacks feature(s): %s (use null for a missing value)" % (where, ", ".join(missing)))
        for feature in features:
            cells[feature["name"]].append(csv_cell(row[feature["name"]], feature["name"], where))
    columns = {f["name"]: feature_column(pd.Series(cells[f["name"]], dtype=object), f, "rows") for f in features}
    return pd.DataFrame(columns)


def csv_cell(value, name, where):
    """The text a CSV cell would hold for a logged value ("" is missing, as in read_features)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        # As JavaScript writes numbers: a category logged as 3 (parsed as 3.0 by some writers) is "3".
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    raise BadInput("%s: feature %r must be a finite number, a string or null, got %r" % (where, name, value))


def explain(request):
    task = request["task"]
    X = rows_frame(request["rows"], request["features"])
    try:
        model = load_model(request)
    except BadInput:
        raise
    except Exception as error:  # a custom trainer's artefact, a pickle of an unknown class…
        reason = "the model file cannot be loaded here (%s: %s)" % (type(error).__name__, error)
        return unsupported(None, reason, [{"prediction": None}] * len(X))
    check_model_columns(model, X)
    predicted = predict_rows(model, X, task)
    estimator = model[-1] if isinstance(model, Pipeline) else model
    name = type(estimator).__name__
    try:
        targets = explained_classes(estimator, request, predicted) if task == "classification" else None
        return decompose(model, X, request, targets, predicted)
    except Unsupported as reason:
        return unsupported(name, str(reason), predicted)


def check_model_columns(model, X):
    expected = getattr(model, "feature_names_in_", None)
    if expected is None:
        return
    missing = [str(c) for c in expected if c not in X.columns]
    if missing:
        raise BadInput("the model uses feature(s) the request does not list: %s" % ", ".join(missing))


def explained_classes(estimator, request, predicted):
    """The class whose output each row's contributions explain: the positive class when there
    are two (the second, as in sklearn and lib/metrics, unless positiveClass says otherwise);
    with more, positiveClass or the row's predicted class."""
    classes = [str(c) for c in estimator.classes_]
    if request.get("classes") is not None and request["classes"] != classes:
        raise BadInput("the model's classes %s differ from the request's %s" % (classes, request["classes"]))
    positive = request.get("positiveClass")
    if positive is not None and positive not in classes:
        raise BadInput("positiveClass %r is not one of the model's classes %s" % (positive, classes))
    if len(classes) == 2:
        return [positive or classes[1]] * len(predicted)
    return [positive or row["prediction"] for row in predicted]


def decompose(model, X, request, targets, predicted):
    if not (isinstance(model, Pipeline) and len(model.steps) == 2 and isinstance(model[0], ColumnTransformer)):
        raise Unsupported("not a Pipeline of a ColumnTransformer and an estimator, as training/train.py builds")
    estimator = model[-1]
    if isinstance(estimator, (DummyClassifier, DummyRegressor)):
        what = type(estimator).__name__
        raise Unsupported("%s predicts without looking at the features: none of them pushed the prediction" % what)
    if not isinstance(estimator, LINEAR + FORESTS + BOOSTING):
        what = type(estimator).__name__
        raise Unsupported("no contributions for %s: only linear models and tree ensembles are decomposed" % what)
    columns = transformed_columns(model[0], request["categoryCounts"])
    Z = model[0].transform(X)
    Z = np.asarray(Z.toarray() if sparse.issparse(Z) else Z, dtype=float)
    if Z.shape[1] != len(columns):
        raise Unsupported("the preprocessing gives %d columns where %d were traced" % (Z.shape[1], len(columns)))
    if isinstance(estimator, LINEAR):
        method, output, base, per_column, value = linear(estimator, Z, columns, targets)
    elif isinstance(estimator, FORESTS):
        method, output, base, per_column, value = forest(estimator, Z, targets)
    else:
        method, output, base, per_column, value = boosting(estimator, Z, targets)

    names = [f["name"] for f in request["features"]]
    contributions = np.zeros((len(X), len(names)))
    for k, column in enumerate(columns):
        contributions[:, names.index(column.feature)] += per_column[:, k]
    check_identity(base, contributions, value)

    rows = []
    for i, made in enumerate(predicted):
        row = dict(made)
        row["class"] = targets[i] if targets is not None else None
        row["base"] = float(base[i])
        row["value"] = float(value[i])
        row["contributions"] = {name: float(c) for name, c in zip(names, contributions[i])}
        rows.append(row)
    return {
        "kind": CONTRACT,
        "method": method,
        "output": output,
        "estimator": type(estimator).__name__,
        "rows": rows,
        "note": note(method, output, estimator, columns, targets),
    }


def check_identity(base, contributions, value):
    gap = np.abs(base + contributions.sum(axis=1) - value)
    allowed = TOLERANCE * np.maximum(1.0, np.abs(value))
    if np.any(gap > allowed):
        raise Unsupported("the decomposition does not reproduce the model's output (off by up to %.3g)" % gap.max())


def unsupported(estimator, reason, predicted):
    return {
        "kind": CONTRACT,
        "method": "unsupported",
        "output": None,
        "estimator": estimator,
        "reason": reason,
        "rows": [dict(row) for row in predicted],
    }


# --- From transformed columns back to features -------------------------------------------------


class Column:
    """One column on the way through the preprocessing: the feature it comes from, whether it
    still holds that feature's own values (only imputed), the imputer's fill for it, and its
    mean on the training data when that is known."""

    def __init__(self, feature, raw=True, fill=None, mean=None):
        self.feature = feature
        self.raw = raw
        self.fill = fill
        self.mean = mean


def transformed_columns(ct, counts):
    """One Column per output column of the fitted ColumnTransformer, in output order."""
    names_in = [str(n) for n in getattr(ct, "feature_names_in_", [])]
    if not names_in:
        raise Unsupported("the ColumnTransformer was not fitted on named columns")
    width = max((s.stop for s in ct.output_indices_.values()), default=0)
    columns = [None] * width
    for name, transformer, selection in ct.transformers_:
        out = ct.output_indices_[name]
        if out.stop == out.start or transformer == "drop":
            continue
        inputs = [Column(names_in[c] if isinstance(c, (int, np.integer)) else str(c)) for c in selected(selection)]
        traced = through(transformer, inputs, counts)
        if len(traced) != out.stop - out.start:
            width = out.stop - out.start
            raise Unsupported("cannot trace the %d output columns of %r back to features" % (width, name))
        columns[out] = traced
    if any(c is None for c in columns):
        raise Unsupported("some output columns of the preprocessing come from no known transformer")
    return columns


def selected(selection):
    if isinstance(selection, str):
        return [selection]
    items = list(selection)
    if not all(isinstance(c, (str, int, np.integer)) and not isinstance(c, bool) for c in items):
        raise Unsupported("columns selected by %r cannot be traced" % (selection,))
    return items


def through(transformer, columns, counts):
    """The Columns a fitted transformer makes of its input Columns."""
    if transformer == "passthrough":
        return [Column(c.feature, c.raw, c.fill) for c in columns]
    if isinstance(transformer, Pipeline):
        for _, step in transformer.steps:
            if step is not None and step != "passthrough":
                columns = through(step, columns, counts)
        return columns
    if isinstance(transformer, StandardScaler):
        # A scaler's output has mean exactly 0 on the data it was fitted on: the training rows.
        return [Column(c.feature, raw=False, mean=0.0 if transformer.with_mean else None) for c in columns]
    if isinstance(transformer, OneHotEncoder):
        return one_hot(transformer, columns, counts)
    if isinstance(transformer, SimpleImputer):
        kept = same_names(transformer, columns)
        return [Column(columns[i].feature, columns[i].raw, transformer.statistics_[i]) for i in kept]
    return [Column(columns[i].feature, raw=False) for i in same_names(transformer, columns)]


def same_names(transformer, columns):
    """Indices of the input columns a transformer keeps, one output each, or Unsupported."""
    # The first step of a pipeline inside a ColumnTransformer knows its columns' names; later ones do not.
    known = getattr(transformer, "feature_names_in_", None)
    tokens = [str(n) for n in known] if known is not None else ["x%d" % i for i in range(len(columns))]
    if len(tokens) != len(columns):
        what = type(transformer).__name__
        raise Unsupported("%s expects %d columns where %d were traced" % (what, len(tokens), len(columns)))
    try:
        names_out = [str(n) for n in transformer.get_feature_names_out(tokens)]
    except Exception as error:  # no get_feature_names_out, or one that rejects our names
        raise Unsupported("cannot trace the outputs of %s back to features (%s)" % (type(transformer).__name__, error))
    if not all(n in tokens for n in names_out):
        raise Unsupported("%s makes new columns; cannot trace them back to features" % type(transformer).__name__)
    return [tokens.index(n) for n in names_out]


def one_hot(encoder, columns, counts):
    if getattr(encoder, "_infrequent_enabled", False):
        raise Unsupported("one-hot encoding with infrequent categories is not traced")
    traced = []
    for i, categories in enumerate(encoder.categories_):
        dropped = encoder.drop_idx_[i] if encoder.drop_idx_ is not None else None
        for j, category in enumerate(categories):
            if j != dropped:
                traced.append(Column(columns[i].feature, raw=False, mean=category_share(columns[i], category, counts)))
    return traced


def category_share(column, category, counts):
    """The share of training rows in `category` after imputation (the one-hot column's training
    mean), from the version's category counts; None when they do not say."""
    entry = counts.get(column.feature)
    if not column.raw or entry is None:
        return None
    total = sum(entry["counts"].values()) + entry["missing"]
    if total == 0 or (entry["missing"] and column.fill is None):
        return None
    n = entry["counts"].get(str(category), 0)
    if entry["missing"] and str(column.fill) == str(category):
        n += entry["missing"]
    return n / total


# --- Decompositions ----------------------------------------------------------------------------


def class_index(estimator, targets):
    classes = [str(c) for c in estimator.classes_]
    return np.array([classes.index(t) for t in targets])


def linear(estimator, Z, columns, targets):
    coef = np.atleast_2d(estimator.coef_)
    intercept = np.atleast_1d(estimator.intercept_).astype(float)
    means = np.array([0.0 if c.mean is None else c.mean for c in columns])
    method = "linear" if all(c.mean is not None for c in columns) else "linear-reference"
    if targets is None:
        if coef.shape[0] != 1:
            raise Unsupported("a linear model with %d outputs is not decomposed" % coef.shape[0])
        weights = np.repeat(coef, len(Z), axis=0)
        bias = np.repeat(intercept[0], len(Z))
        value = np.asarray(estimator.predict(Z), dtype=float)
        output = "value"
    else:
        k = class_index(estimator, targets)
        scores = np.asarray(estimator.decision_function(Z), dtype=float)
        if coef.shape[0] == 1:
            # Binary: sklearn's one score is the log-odds of classes_[1]; the other class's is its negative.
            sign = np.where(k == 1, 1.0, -1.0)
            weights = sign[:, None] * coef[0]
            bias = sign * intercept[0]
            value = sign * scores
            output = "log-odds"
        else:
            weights, bias = coef[k], intercept[k]
            value = scores[np.arange(len(Z)), k]
            output = "logit"
    per_column = weights * (Z - means)
    base = bias + weights @ means
    return method, output, base, per_column, value


def node_values(tree, classifier):
    """Each node's value: class shares for a classifier, the node value for a regression tree."""
    values = tree.tree_.value
    if values.shape[1] != 1:
        raise Unsupported("trees with several outputs are not decomposed")
    values = values[:, 0, :].astype(float)
    if classifier:
        values = values / values.sum(axis=1, keepdims=True)
    return values


def path_changes(tree, Z, values):
    """Saabas for one tree: per row, the root's value, and per column the sum of the value changes
    of the splits on that column along the row's path (the changes telescope to the leaf's value)."""
    structure = tree.tree_
    parent = np.full(structure.node_count, -1)
    internal = np.flatnonzero(structure.children_left >= 0)
    parent[structure.children_left[internal]] = internal
    parent[structure.children_right[internal]] = internal
    paths = tree.decision_path(Z).tocoo()
    below_root = paths.col != 0
    rows, nodes = paths.row[below_root], paths.col[below_root]
    changes = np.zeros((Z.shape[0], Z.shape[1], values.shape[1]))
    np.add.at(changes, (rows, structure.feature[parent[nodes]]), values[nodes] - values[parent[nodes]])
    return values[0], changes


def forest(estimator, Z, targets):
    classifier = targets is not None
    trees = getattr(estimator, "estimators_", [estimator])
    base, changes = 0.0, 0.0
    for tree in trees:
        root, tree_changes = path_changes(tree, Z, node_values(tree, classifier))
        base, changes = base + root, changes + tree_changes
    base, changes = base / len(trees), changes / len(trees)
    if classifier:
        k = class_index(estimator, targets)
        rows = np.arange(len(Z))
        value = np.asarray(estimator.predict_proba(Z), dtype=float)[rows, k]
        return "tree-path", "probability", base[k], changes[rows, :, k], value
    value = np.asarray(estimator.predict(Z), dtype=float)
    return "tree-path", "value", np.repeat(base[0], len(Z)), changes[:, :, 0], value


def boosting(estimator, Z, targets):
    rate = estimator.learning_rate
    stages = estimator.estimators_
    # The init estimator's raw prediction (e.g. the prior's log-odds): the start of every row's score.
    base = np.asarray(estimator._raw_predict_init(Z), dtype=float).copy()
    changes = np.zeros((Z.shape[0], Z.shape[1], stages.shape[1]))
    for stage in stages:
        for j, tree in enumerate(stage):
            root, tree_changes = path_changes(tree, Z, node_values(tree, classifier=False))
            base[:, j] += rate * root[0]
            changes[:, :, j] += rate * tree_changes[:, :, 0]
    rows = np.arange(len(Z))
    if targets is None:
        return "tree-path", "value", base[:, 0], changes[:, :, 0], np.asarray(estimator.predict(Z), dtype=float)
    k = class_index(estimator, targets)
    scores = np.asarray(estimator.decision_function(Z), dtype=float)
    if stages.shape[1] == 1:
        # Binary: one score, the log-odds of classes_[1]; the other class's is its negative.
        sign = np.where(k == 1, 1.0, -1.0)
        return "tree-path", "log-odds", sign * base[:, 0], sign[:, None] * changes[:, :, 0], sign * scores
    return "tree-path", "logit", base[rows, k], changes[rows, :, k], scores[rows, k]


def note(method, output, estimator, columns, targets):
    target = ""
    if targets is not None:
        distinct = sorted(set(targets))
        target = ' of "%s"' % distinct[0] if len(distinct) == 1 else " of each row's class"
    unit = UNITS[output]
    if method == "tree-path":
        how = "Saabas path attribution: each split on the row's path credits its change in node value to its feature"
        if isinstance(estimator, BOOSTING):
            trees = estimator.estimators_.shape[0]
            how += "; summed over %d trees times the learning rate, base = init estimator + root values" % trees
        elif hasattr(estimator, "estimators_"):
            how += "; averaged over %d trees, base = mean root value" % len(estimator.estimators_)
        return "%s, in %s%s." % (how, unit, target)
    text = "coefficient x (transformed value - training mean), summed per feature, in %s%s" % (unit, target)
    if method == "linear":
        return text + "; base = the model's mean output on the training data."
    unknown = sorted({c.feature for c in columns if c.mean is None})
    return (
        text + "; the training mean of the columns of %s is unknown (no category counts), so they are measured from 0 "
        "(for one-hot columns: no category), and base = intercept + the known means." % ", ".join(unknown)
    )


if __name__ == "__main__":
    run(main)
