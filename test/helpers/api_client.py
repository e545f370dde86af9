"""Drives the Retrain HTTP API with Python's standard library only (urllib.request), as a
Django or Flask backend would without any Retrain package: log predictions, start a retrain,
wait for the approval step, have a non-approver refused, approve, wait for the promotion, then
fetch the champion with an ETag. Prints one JSON object per step on stdout."""

import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ["API"]
MODEL = os.environ["MODEL"]


def call(method, path, token, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, dict(err.headers), json.loads(raw) if raw else None


def step(name, status, body, **extra):
    print(json.dumps({"step": name, "status": status, "body": body, **extra}), flush=True)


svc, alice, mallory = os.environ["TOKEN_SVC"], os.environ["TOKEN_ALICE"], os.environ["TOKEN_MALLORY"]

status, _, body = call("POST", f"/v1/models/{MODEL}/retrain", svc, {"reason": "new labels (python job)"})
step("retrain", status, body)

deadline = time.time() + 120
run = None
while time.time() < deadline:
    status, _, run = call("GET", f"/v1/models/{MODEL}/runs/current", svc)
    if status == 200 and (run.get("step") == "approval" or run.get("outcome") != "running"):
        break
    time.sleep(0.3)
step("waiting", status, run)

status, _, body = call("POST", f"/v1/models/{MODEL}/approve", mallory, {"reason": "looks fine to me"})
step("approve-mallory", status, body)

status, _, body = call("POST", f"/v1/models/{MODEL}/approve", alice, {"reason": "holdout looks fine", "version": run["version"]})
step("approve-alice", status, body)

deadline = time.time() + 120
while time.time() < deadline:
    status, _, run = call("GET", f"/v1/models/{MODEL}/runs/current", svc)
    if status == 200 and run.get("outcome") != "running":
        break
    time.sleep(0.3)
step("finished", status, run)

status, headers, champion = call("GET", f"/v1/models/{MODEL}/champion", svc)
etag = headers.get("ETag") or headers.get("etag")
step("champion", status, champion, etag=etag)
status, _, body = call("GET", f"/v1/models/{MODEL}/champion", svc, headers={"If-None-Match": etag})
step("champion-again", status, body)
sys.exit(0)
