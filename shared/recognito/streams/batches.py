"""A read's sampled frames between the reading and the analysing function: one zip in S3 of
``<n>.jpg`` entries and ``frames.json`` (each frame's place in the video stream, in order)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from recognito.video import jobs

Frames = list[tuple[dict[str, Any], bytes]]


def archive(frames: Frames) -> bytes:
    """The frames as ``<n>.jpg`` entries and ``frames.json`` (their metadata, in order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("frames.json", json.dumps([info for info, _ in frames]))
        for index, (_, jpeg) in enumerate(frames):
            archive.writestr(f"{index:06d}.jpg", jpeg)
    return buffer.getvalue()


def frames(key: str) -> Frames:
    """A read's frames back from S3 (and the object deleted: it served its one analysis)."""
    s3 = jobs.client("s3")
    data = s3.get_object(Bucket=jobs.bucket(), Key=key)["Body"].read()
    s3.delete_object(Bucket=jobs.bucket(), Key=key)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = json.loads(archive.read("frames.json"))
        return [(info, archive.read(f"{index:06d}.jpg")) for index, info in enumerate(infos)]
