"""Jobs interrupted by a restart of `recognito serve` run again (recognito_local.stepfunctions.
resume_interrupted_jobs), in-process: the state a restart leaves is made directly (a job IN_PROGRESS
whose execution is gone or over), then resumed as `recognito serve` does at start. The kill and
restart of a real endpoint is tests/e2e/test_video_jobs_e2e.py's."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from video_clips import BLACK_FRAMES, joined_clip

BUCKET = "videos"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return joined_clip(tmp_path_factory.mktemp("clips") / "joined.mp4")


@pytest.fixture
def video_aws(clip):
    from recognito.storage import ensure_tables
    from recognito_local.stepfunctions import bridge_lambda_tasks, ensure_video_jobs

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        ensure_tables()
        bridge_lambda_tasks()
        ensure_video_jobs()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(clip), BUCKET, "joined.mp4")
        yield s3


def interrupted_job(job_id: str) -> None:
    """A segment job as a restart leaves it: recorded IN_PROGRESS, its work not done."""
    from recognito.storage.tables import VideoJobRecord
    from recognito.video import jobs

    request = {"Video": {"S3Object": {"Bucket": BUCKET, "Name": "joined.mp4"}}, "SegmentTypes": ["TECHNICAL_CUE"]}
    record = VideoJobRecord(job_id, api="StartSegmentDetection", status="IN_PROGRESS", running=jobs.RUNNING)
    record.request, record.created = json.dumps(request, sort_keys=True), datetime.now(UTC)
    record.save()


def ended(job_id: str) -> dict:
    from conftest import call

    for _ in range(600):
        status, body = call("GetSegmentDetection", {"JobId": job_id})
        assert status == 200, body
        if body["JobStatus"] != "IN_PROGRESS":
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still IN_PROGRESS")


def test_an_interrupted_job_runs_again_and_succeeds(video_aws):
    from recognito.video import jobs
    from recognito_local.stepfunctions import resume_interrupted_jobs

    job_id = "a" * 64
    interrupted_job(job_id)
    assert resume_interrupted_jobs() == {"resumed": [job_id], "failed": []}
    body = ended(job_id)
    assert body["JobStatus"] == "SUCCEEDED", body
    cues = [(s["TechnicalCueSegment"]["Type"], s["StartFrameNumber"]) for s in body["Segments"]]
    assert ("BlackFrames", BLACK_FRAMES[0]) in cues, cues  # the real analysis, not a marker
    sfn = boto3.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=jobs.state_machine_arn())["executions"]
    assert [(e["name"], e["status"]) for e in executions] == [(job_id, "SUCCEEDED")]
    assert resume_interrupted_jobs() == {"resumed": [], "failed": []}  # ended jobs stay ended


def test_a_job_interrupted_at_every_run_ends_failed(video_aws):
    """After MAX_RUNS executions a job is not started again: it ends FAILED with its message."""
    from recognito.video import jobs
    from recognito_local.stepfunctions import INTERRUPTED_MESSAGE, MAX_RUNS, resume_interrupted_jobs, run_name

    job_id = "b" * 64
    sfn = boto3.client("stepfunctions")
    arns = [
        sfn.start_execution(stateMachineArn=jobs.state_machine_arn(), name=run_name(job_id, run), input="{}")[
            "executionArn"
        ]
        for run in range(1, MAX_RUNS + 1)
    ]  # runs that ended without the job (no JobId in their input: their first state fails)
    for _ in range(100):
        if all(sfn.describe_execution(executionArn=arn)["status"] != "RUNNING" for arn in arns):
            break
        time.sleep(0.1)
    interrupted_job(job_id)
    assert resume_interrupted_jobs() == {"resumed": [], "failed": [job_id]}
    body = ended(job_id)
    assert (body["JobStatus"], body["StatusMessage"]) == ("FAILED", INTERRUPTED_MESSAGE)
