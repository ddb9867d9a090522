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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

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


MEDIA_ANALYSIS = "media_analysis"
STREAM_PROCESSOR = "stream_processor"
CUSTOM_LABELS_TRAINING = "custom_labels_training"


def state_machines() -> dict[str, str]:
    """The jobs' state machines: each ``statemachines/`` name to its ARN."""
    from recognito.custom_labels import versions
    from recognito.streams import processors
    from recognito.video import jobs, media_analysis

    return {
        VIDEO_JOBS: jobs.state_machine_arn(),
        MEDIA_ANALYSIS: media_analysis.state_machine_arn(),
        STREAM_PROCESSOR: processors.state_machine_arn(),
        CUSTOM_LABELS_TRAINING: versions.state_machine_arn(),
    }


def ensure_video_jobs() -> None:
    """The video and media analysis jobs' bucket and state machines, as the template makes them deployed."""
    import boto3
    from recognito.video.jobs import bucket

    s3 = boto3.client("s3", region_name=settings().region)
    try:
        s3.head_bucket(Bucket=bucket())
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket())
    sfn = boto3.client("stepfunctions", region_name=settings().region)
    for name, arn in state_machines().items():
        role = f"arn:{settings().partition}:iam::{settings().account_id}:role/{name.replace('_', '-')}"
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
            sfn.update_state_machine(stateMachineArn=arn, definition=definition(name))
        except sfn.exceptions.StateMachineDoesNotExist:
            sfn.create_state_machine(name=arn.rpartition(":")[2], definition=definition(name), roleArn=role)


INTERRUPTED_MESSAGE = "recognito serve stopped while the job ran, too often to try again; start it again."
MAX_RUNS = 3
"""Executions a job gets: one, and two more after restarts. A job that keeps being interrupted
(one that brings the endpoint down, say) then ends FAILED rather than running at every start."""


def run_name(job_id: str, run: int) -> str:
    """The name of a job's ``run``-th execution (from 1): the JobId, then ``<JobId>-<run>``."""
    return job_id if run == 1 else f"{job_id}-{run}"


def resume_interrupted_jobs() -> dict[str, list[str]]:
    """Jobs not ended whose execution no longer runs (the endpoint stopped under them: the restart
    marks such executions ABORTED, or the execution was never saved) run again from their first
    state, in a new execution of their state machine. The workers redo a run's work from the
    start (each step overwrites what it writes), so a job re-run gives what an uninterrupted run
    gives. After ``MAX_RUNS`` executions a job ends FAILED with its SNS message instead: nothing
    stays IN_PROGRESS forever. Custom labels versions still training are resumed alike (a version
    that keeps being interrupted ends TRAINING_FAILED). Returns the JobIds and version ARNs
    ``{"resumed": [...], "failed": [...]}``."""
    import boto3
    from recognito.custom_labels import versions
    from recognito.storage.tables import VideoJobRecord
    from recognito.video import jobs, media_analysis

    sfn = boto3.client("stepfunctions", region_name=settings().region)
    machines = state_machines()
    outcome: dict[str, list[str]] = {"resumed": [], "failed": []}
    for record in VideoJobRecord.scan(VideoJobRecord.running == jobs.RUNNING):
        machine = machines[MEDIA_ANALYSIS if record.api == media_analysis.API else VIDEO_JOBS]
        execution_input = json.dumps({"JobId": record.job_id, "Api": record.api})
        fail = partial(jobs.complete, record, "FAILED", INTERRUPTED_MESSAGE)
        ended = _resume(sfn, machine, record.job_id, execution_input, fail)
        if ended:
            outcome[ended].append(record.job_id)
    for version in versions.training():
        execution_input = versions.training_input(version.arn)
        name = versions.execution_name(version.arn)
        fail = partial(versions.fail_training, version.arn, INTERRUPTED_MESSAGE)
        ended = _resume(sfn, machines[CUSTOM_LABELS_TRAINING], name, execution_input, fail)
        if ended:
            outcome[ended].append(version.arn)
    return outcome


def _resume(sfn: Any, machine: str, name: str, execution_input: str, fail: Callable[[], object]) -> str | None:
    """Runs a job (its first execution named ``name``) again unless an execution of it still runs:
    "resumed", or "failed" (``fail`` called) after ``MAX_RUNS`` executions; None while one runs."""
    prefix = machine.replace(":stateMachine:", ":execution:")
    runs = 0
    running = False
    while runs < MAX_RUNS:
        try:
            status = sfn.describe_execution(executionArn=f"{prefix}:{run_name(name, runs + 1)}")["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            break
        runs += 1
        running = status == "RUNNING"
    if running:
        return None
    if runs >= MAX_RUNS:
        fail()
        return "failed"
    sfn.start_execution(stateMachineArn=machine, name=run_name(name, runs + 1), input=execution_input)
    return "resumed"
