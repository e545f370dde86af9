"""Shared helpers for the scripts that speak the Retrain subprocess contract (see CONTRACT.md)."""

import json

import numpy as np
import pandas as pd

from contract_process import EXIT_BAD_INPUT, EXIT_PARENT_GONE, BadInput, atomic_write_text, progress, run, start_watchdog

__all__ = ["EXIT_BAD_INPUT", "EXIT_PARENT_GONE", "BadInput", "atomic_write_text", "progress", "run", "start_watchdog"]

TASKS = ("classification", "regression")
FEATURE_TYPES = ("numeric", "categorical")


def read_request(path, contract):
    """Read a request file: a JSON object of the given contract, or BadInput saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            request = json.load(handle)
    except (OSError, ValueError) as error:
        raise BadInput("cannot read request %s: %s" % (path, error))
    if not isinstance(request, dict):
        raise BadInput("request must be a JSON object")
    if request.get("contract") != contract:
        raise BadInput("request contract must be %r, got %r" % (contract, request.get("contract")))
    return request


def load_request(path, contract):
    """Read the request file and check the fields both train and predict requests share."""
    request = read_request(path, contract)
    if request.get("task") not in TASKS:
        raise BadInput("task must be one of %s, got %r" % (", ".join(TASKS), request.get("task")))
    request["features"] = check_features(request.get("features"))
    return request


def require_string(request, key):
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise BadInput("%s must be a non-empty string" % key)
    return value


def check_features(features, key="type"):
    """The request's features, checked: a non-empty list of distinct names, each with `key`
    (the training contract's "type"; drift requests say "kind") numeric or categorical."""
    if not isinstance(features, list) or not features:
        raise BadInput("features must be a non-empty list")
    names = set()
    for feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str) or not feature["name"]:
            raise BadInput("each feature needs a non-empty string name: %r" % (feature,))
        if feature.get(key) not in FEATURE_TYPES:
            raise BadInput("feature %r: %s must be numeric or categorical, got %r" % (feature["name"], key, feature.get(key)))
        if feature["name"] in names:
            raise BadInput("duplicate feature %r" % feature["name"])
        names.add(feature["name"])
    return features


def read_features(path, features, label_column=None, task=None):
    """Read a CSV into (X, y) with the contract's dtypes; y is None without a label column.

    Cells are read as literal strings and only empty cells count as missing, so a class
    named "NA" stays a class, exactly as the TypeScript side reads it.
    """
    names = [f["name"] for f in features]
    wanted = names + ([label_column] if label_column else [])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in wanted)
    except (OSError, ValueError) as error:
        raise BadInput("cannot read CSV %s: %s" % (path, error))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise BadInput("%s lacks column(s): %s" % (path, ", ".join(missing)))
    X = pd.DataFrame({f["name"]: feature_column(frame[f["name"]], f, path) for f in features})
    y = _label_column(frame[label_column], task, path) if label_column else None
    return X, y


def feature_column(column, feature, path):
    blanked = column.replace("", np.nan)
    if feature["type"] == "categorical":
        # object dtype: sklearn's imputer and encoder handle it more predictably than pandas' str.
        return blanked.astype(object)
    try:
        return pd.to_numeric(blanked, errors="raise").astype(float)
    except (ValueError, TypeError) as error:
        raise BadInput("%s: numeric feature %r has a non-numeric value (%s)" % (path, feature["name"], error))


def _label_column(column, task, path):
    if (column == "").any():
        raise BadInput("%s: label column %r has empty values" % (path, column.name))
    if task == "classification":
        return column.astype(object)
    try:
        return pd.to_numeric(column, errors="raise").astype(float)
    except (ValueError, TypeError) as error:
        raise BadInput("%s: regression label %r is not numeric (%s)" % (path, column.name, error))
