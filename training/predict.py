"""Default predictor for the retrain.predict/v1 contract (see CONTRACT.md)."""

import json
import os
import sys

import joblib

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

CONTRACT = "retrain.predict/v1"
PURPOSES = ("evaluate", "verify", "serve")


def main(request_path):
    start_watchdog()
    request = load_predict_request(request_path)
    model = load_model(request)
    progress("load", 0.2, "reading %s" % request["inputPath"])
    X, _ = read_features(request["inputPath"], request["features"])
    progress("predict", 0.5, "predicting %d rows" % len(X))
    # sklearn refuses zero-row input; an empty input simply has no predictions.
    rows = predict_rows(model, X, request["task"]) if len(X) else []
    atomic_write_text(request["outputPath"], "".join(json.dumps(row) + "\n" for row in rows))
    progress("save", 1.0, "wrote %d predictions" % len(rows))


def load_predict_request(path):
    request = load_request(path, CONTRACT)
    for key in ("modelDir", "inputPath", "outputPath"):
        require_string(request, key)
    artifacts = request.get("artifacts")
    if not isinstance(artifacts, dict) or not isinstance(artifacts.get("model"), str):
        raise BadInput("artifacts.model must name the model file")
    if request.get("purpose") not in PURPOSES:
        raise BadInput("purpose must be one of %s, got %r" % (", ".join(PURPOSES), request.get("purpose")))
    return request


def load_model(request):
    path = os.path.join(request["modelDir"], request["artifacts"]["model"])
    try:
        model = joblib.load(path)
    except FileNotFoundError:
        raise BadInput("model file %s does not exist" % path)
    if request["task"] == "classification" and not hasattr(model, "predict_proba"):
        raise BadInput("model at %s has no predict_proba; was it trained for classification?" % path)
    return model


def predict_rows(model, X, task):
    if task == "regression":
        return [{"prediction": float(value)} for value in model.predict(X)]
    classes = [str(c) for c in model.classes_]
    rows = []
    for probabilities in model.predict_proba(X):
        scores = {name: float(p) for name, p in zip(classes, probabilities)}
        # argmax of the scores, so the prediction always agrees with them
        rows.append({"prediction": max(scores, key=scores.get), "scores": scores})
    return rows


if __name__ == "__main__":
    run(main)
