"""A retraining run driven by the Temporal Python SDK alone, knowing only the names.

Starts `retrainPipeline` for a model by name, waits (through the `status` query) until the run
asks for approval, tries the `approveCandidate` update as someone who is not a listed approver,
approves with the `approve` signal as a listed one, awaits the result and prints one JSON line:
what was refused and why, how the run ended, the version. Uses only the SDK's public API.

    python python_sdk_client.py --address 127.0.0.1:7233 --task-queue retrain \\
        --model churn --approver alice@example.com --intruder mallory@example.com
"""

import argparse
import asyncio
import json
import os
import sys

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)


def cause_message(err):
    """The innermost message of a Temporal failure (the workflow's or validator's own words)."""
    while getattr(err, "cause", None) is not None:
        err = err.cause
    return getattr(err, "message", None) or str(err)


async def wait_for_approval_step(handle, timeout):
    """The run's status once it waits for a decision; raises if it ended or took too long first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            status = await handle.query("status")
        except WorkflowQueryFailedError:
            # The run ended before it could answer (an invalid input): its result says why.
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                await handle.result()
            status = None
        if status is not None and status["step"] == "approval":
            return status
        if status is not None and status["outcome"] != "running":
            raise RuntimeError("the run ended (%s) before asking for approval: %s" % (status["outcome"], status["message"]))
        if loop.time() > deadline:
            step = status["step"] if status is not None else "loading its pipeline"
            raise RuntimeError("the run did not reach approval within %ss (at %s)" % (timeout, step))
        await asyncio.sleep(0.2)


async def main(args):
    client = await Client.connect(args.address, namespace=args.namespace)
    workflow_id = "retrain-%s" % args.model
    run_input = {"model": args.model, "requestedBy": "python-sdk"}
    if args.training_task_queue:
        run_input["trainingTaskQueue"] = args.training_task_queue
    report = {"workflowId": workflow_id}
    try:
        handle = await client.start_workflow("retrainPipeline", args=[run_input], id=workflow_id, task_queue=args.task_queue)
        report["runId"] = handle.result_run_id

        waiting = await wait_for_approval_step(handle, args.timeout)
        report["approvers"] = waiting["approval"]["approvers"]
        report["candidate"] = waiting["version"]

        try:
            await handle.execute_update("approveCandidate", {"by": args.intruder, "reason": "let me in"})
            report["refusal"] = None
        except WorkflowUpdateFailedError as err:
            report["refusal"] = cause_message(err)

        await handle.signal("approve", {"by": args.approver, "reason": "approved from the Python SDK"})
        summary = await handle.result()
        report.update(
            outcome=summary["outcome"],
            version=summary["version"],
            championAfter=summary["championAfter"],
            approvedBy=summary["approval"]["by"],
            requestedBy=summary["requestedBy"],
        )
    except (WorkflowFailureError, RuntimeError) as err:
        report["error"] = cause_message(err)
        print(json.dumps(report), flush=True)
        return 1
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="Temporal frontend, host:port")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True, help="task queue of the retraining workflows")
    parser.add_argument("--training-task-queue", help="task queue of the training activities")
    parser.add_argument("--model", required=True, help="pipeline name: the worker loads pipelines/<model>.ts")
    parser.add_argument("--approver", required=True, help="a listed approver: approves with the signal")
    parser.add_argument("--intruder", required=True, help="not a listed approver: tries the update")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the approval step")
    code = asyncio.run(main(parser.parse_args()))
    sys.stdout.flush()
    # The report is out and its status decided: skip the interpreter's teardown, where the SDK's
    # native runtime was seen (2 runs in 10 here) to end the process non-zero after a clean run.
    os._exit(code)
