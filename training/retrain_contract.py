"""Shared helpers for the scripts that speak the Retrain subprocess contract (see CONTRACT.md)."""

import json
import os
import stat
import sys
import tempfile
import threading

import numpy as np
import pandas as pd

EXIT_BAD_INPUT = 2
EXIT_PARENT_GONE = 3
TASKS = ("classification", "regression")
FEATURE_TYPES = ("numeric", "categorical")


class BadInput(Exception):
    """Unusable request or data: the worker must not retry, so this maps to exit code 2."""


def run(main):
    """Run main(request_path) and turn BadInput into a stderr message and exit code 2."""
    if len(sys.argv) < 2:
        print("usage: %s <request.json>" % os.path.basename(sys.argv[0]), file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    try:
        main(sys.argv[-1])
    except BadInput as error:
        print("bad input: %s" % error, file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def start_watchdog():
    """Exit when the worker closes our stdin, so a dead worker leaves no orphan training.

    Only a pipe or socket means "a parent is holding the other end" (Node's stdio 'pipe' is a
    Unix socket); a terminal or /dev/null must not be mistaken for a dead parent.
    """
    mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    threading.Thread(target=_exit_on_stdin_eof, name="stdin-watchdog", daemon=True).start()


def _exit_on_stdin_eof():
    # os.read rather than sys.stdin: a daemon thread blocked inside the buffered reader can make
    # interpreter shutdown abort while waiting for its lock.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(EXIT_PARENT_GONE)


def progress(stage, fraction, message=None):
    """Emit one JSON progress line on stdout; the worker turns it into a heartbeat."""
    line = {"stage": stage, "progress": fraction}
    if message:
        line["message"] = message
    print(json.dumps(line), flush=True)


def atomic_write_text(path, text):
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_request(path, contract):
    """Read the request file and check the fields both train and predict requests share."""
    try:
        with open(path, encoding="utf-8") as handle:
            request = json.load(handle)
    except (OSError, ValueError) as error:
        raise BadInput("cannot read request %s: %s" % (path, error))
    if not isinstance(request, dict):
        raise BadInput("request must be a JSON object")
    if request.get("contract") != contract:
        raise BadInput("request contract must be %r, got %r" % (contract, request.get("contract")))
    if request.get("task") not in TASKS:
        raise BadInput("task must be one of %s, got %r" % (", ".join(TASKS), request.get("task")))
    request["features"] = _check_features(request.get("features"))
    return request


def require_string(request, key):
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise BadInput("%s must be a non-empty string" % key)
    return value


def _check_features(features):
    if not isinstance(features, list) or not features:
        raise BadInput("features must be a non-empty list")
    names = set()
    for feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str) or not feature["name"]:
            raise BadInput("each feature needs a non-empty string name: %r" % (feature,))
        if feature.get("type") not in FEATURE_TYPES:
            raise BadInput("feature %r: type must be numeric or categorical" % feature["name"])
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
    X = pd.DataFrame({f["name"]: _feature_column(frame[f["name"]], f, path) for f in features})
    y = _label_column(frame[label_column], task, path) if label_column else None
    return X, y


def _feature_column(column, feature, path):
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
