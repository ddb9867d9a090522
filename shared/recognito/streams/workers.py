"""The one entry point of the stream processor workers: a Task state's ``Step`` names the work.

Imports are by step, so each function loads only what its layers carry: PyAV for reading the
stream (StreamRead), the face models (StreamFaceSearch) or the label models (StreamConnectedHome).
"""

from __future__ import annotations

from typing import Any

from recognito.steps import run_step

STEPS = {
    "begin": "recognito.streams.session:begin",
    "read": "recognito.streams.session:read",
    "renew": "recognito.streams.session:renew",
    "end": "recognito.streams.session:end",
    "fail": "recognito.streams.session:fail",
    "search-faces": "recognito.streams.face_search:analyse",
    "detect-labels": "recognito.streams.connected_home:analyse",
}


def run(event: dict[str, Any]) -> dict[str, Any]:
    return run_step(STEPS, event, "stream processor")
