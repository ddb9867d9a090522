"""Local Step Functions: moto's ASL interpreter runs ``statemachines/``, our workers run its Lambda tasks.

moto executes state machines (``execute_state_machine``) but runs Lambda code only in Docker. Its
interpreter sends both Lambda task forms (``arn:aws:states:::lambda:invoke`` and a bare function
ARN) through one function, ``lambda_eval_utils._invoke_lambda_function``; ``bridge_lambda_tasks``
wraps exactly that one: a function ARN of a registered worker runs the worker's handler in-process
(``call_handler``), with Lambda's answer for an unhandled error, and any other ARN goes on to moto.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from botocore import xform_name
from recognito.registry import Function, registry
from recognito.settings import settings

from recognito_local.invoke import LambdaContext, call_handler

STATE_MACHINES = Path(__file__).resolve().parents[2] / "statemachines"
VIDEO_JOBS = "video_jobs"
_bridged = threading.Lock()
_installed = False


def worker_arns() -> dict[str, Function]:
    """Each worker's local function ARN (as ``LambdaContext.for_function`` names it), to the worker."""
    return {
        LambdaContext.for_function(function).invoked_function_arn: function
        for function in registry().functions.values()
        if function.kind == "worker"
    }


def definition(name: str = VIDEO_JOBS) -> str:
    """``statemachines/<name>.asl.json`` with its ``${<Worker>FunctionArn}`` substituted, as
    template.yaml's DefinitionSubstitutions do deployed."""
    text = (STATE_MACHINES / f"{name}.asl.json").read_text()
    for arn, function in worker_arns().items():
        text = text.replace(f"${{{function.logical_id}Arn}}", arn)
    return text


def _invoke_worker(function: Function, parameters: dict[str, Any]) -> dict[str, Any]:
    payload = parameters.get("Payload") or b"{}"
    event = json.loads(payload.decode() if isinstance(payload, bytes) else payload)
    try:
        result = call_handler(function, event)
    except Exception as error:  # what Lambda reports for an unhandled exception
        message = getattr(error, "message", None) or str(error)
        body = {"errorMessage": message, "errorType": type(error).__name__}
        return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": body, "ExecutedVersion": "$LATEST"}
    return {"StatusCode": 200, "Payload": result, "ExecutedVersion": "$LATEST"}


def bridge_lambda_tasks() -> None:
    """Run the workers' Lambda tasks in this process (idempotent)."""
    global _installed
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    with _bridged:
        if _installed:
            return
        original = lambda_eval_utils._invoke_lambda_function
        workers = worker_arns()

        def invoke(parameters: dict, region: str, state_credentials: Any) -> Any:
            function = workers.get(parameters.get("FunctionName", ""))
            if function is None:
                return original(parameters=parameters, region=region, state_credentials=state_credentials)
            return _invoke_worker(function, parameters)

        lambda_eval_utils._invoke_lambda_function = invoke
        _installed = True


def ensure_video_jobs() -> None:
    """The video jobs' bucket and state machine, as the template makes them deployed."""
    import boto3
    from recognito.video.jobs import bucket, state_machine_arn

    s3 = boto3.client("s3", region_name=settings().region)
    try:
        s3.head_bucket(Bucket=bucket())
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket())
    sfn = boto3.client("stepfunctions", region_name=settings().region)
    arn = state_machine_arn()
    role = f"arn:{settings().partition}:iam::{settings().account_id}:role/{xform_name('VideoJobs', '-')}"
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
        sfn.update_state_machine(stateMachineArn=arn, definition=definition())
    except sfn.exceptions.StateMachineDoesNotExist:
        sfn.create_state_machine(name=arn.rpartition(":")[2], definition=definition(), roleArn=role)


INTERRUPTED_MESSAGE = "recognito serve stopped while the job ran; start it again."


def end_interrupted_jobs() -> list[str]:
    """Jobs left IN_PROGRESS with no running execution (the endpoint stopped under them) end
    FAILED, with their SNS message: nothing stays IN_PROGRESS forever. Executions that the
    restart replayed and that still run finish their jobs themselves."""
    import boto3
    from recognito.storage.tables import VideoJobRecord
    from recognito.video import jobs

    sfn = boto3.client("stepfunctions", region_name=settings().region)
    prefix = jobs.state_machine_arn().replace(":stateMachine:", ":execution:")
    ended = []
    for record in VideoJobRecord.scan(VideoJobRecord.status == "IN_PROGRESS"):
        try:
            status = sfn.describe_execution(executionArn=f"{prefix}:{record.job_id}")["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            status = None
        if status != "RUNNING":
            jobs.complete(record, "FAILED", INTERRUPTED_MESSAGE)
            ended.append(record.job_id)
    return ended
