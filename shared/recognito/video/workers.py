"""The one entry point of the video workers: a Task state's ``Step`` names the work.

Imports are by step, so each worker function loads only what its layers carry (PyAV for
decoding, ONNX Runtime for the models, neither for the last steps).
"""

from __future__ import annotations

from typing import Any

from recognito.steps import run_step

STEPS = {
    "probe": "recognito.video.decoding:probe_video",
    "decode": "recognito.video.decoding:decode_range",
    "frames": "recognito.video.frames:analyse_frames",
    "finish": "recognito.video.aggregate:finish_job",
    "fail": "recognito.video.aggregate:fail_job",
    "manifest": "recognito.video.media_analysis:read_manifest",
    "moderate": "recognito.video.media_analysis:moderate_batch",
    "outputs": "recognito.video.media_analysis:write_outputs",
    "analysis-failed": "recognito.video.media_analysis:fail_analysis",
}


def run(event: dict[str, Any]) -> dict[str, Any]:
    return run_step(STEPS, event, "video worker")
