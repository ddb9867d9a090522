"""A face search processor's analysis: each sampled frame's faces searched in the collection,
one record per analysed frame to the Kinesis data stream, in Rekognition's documented format
(the Kinesis face recognition JSON frame record)."""

from __future__ import annotations

import json
from typing import Any

from recognito.streams import batches, processors
from recognito.streams.regions import in_regions
from recognito.video import jobs
from recognito.video.frames import face_searcher

DETECTED_FACE_MEMBERS = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality")
MATCHED_FACE_MEMBERS = ("BoundingBox", "FaceId", "Confidence", "ImageId", "ExternalImageId")


def analyse(event: dict[str, Any]) -> dict[str, Any]:
    record = processors.load(event["Name"])
    configuration = processors.config(record)
    face_search = configuration["Settings"][processors.FACE_SEARCH]
    request = {
        "CollectionId": face_search["CollectionId"],
        "FaceMatchThreshold": face_search.get("FaceMatchThreshold", processors.DEFAULT_FACE_MATCH_THRESHOLD),
    }
    stream_arn = configuration["Input"]["KinesisVideoStream"]["Arn"]
    regions = configuration.get("RegionsOfInterest") or []
    frames = batches.frames(event["Key"])
    if not frames:
        return {"Records": 0}
    output = configuration["Output"]["KinesisDataStream"]["Arn"]
    kinesis = jobs.client("kinesis")
    search = face_searcher(request)  # the collection and its index read once for the read's frames
    for info, jpeg in frames:
        # Each record goes out as soon as its frame is analysed: a read that is catching up holds
        # several fragments' frames, and the first must not wait for the last.
        analysed = frame_record(stream_arn, info, search(jpeg), regions)
        kinesis.put_record(StreamARN=output, Data=json.dumps(analysed).encode(), PartitionKey=event["SessionId"])
    return {"Records": len(frames)}


def frame_record(
    stream_arn: str, info: dict[str, Any], found: list[dict[str, Any]], regions: list[dict[str, Any]]
) -> dict[str, Any]:
    """One analysed frame: where it is in the video stream, the processor's status, its faces."""
    faces = [face for face in found if in_regions(face["Person"]["BoundingBox"], regions)]
    return {
        "InputInformation": {
            "KinesisVideo": {
                "StreamArn": stream_arn,
                "FragmentNumber": info["FragmentNumber"],
                "ServerTimestamp": info["ServerTimestamp"],
                "ProducerTimestamp": info["ProducerTimestamp"],
                "FrameOffsetInSeconds": info["FrameOffsetInSeconds"],
            }
        },
        "StreamProcessorInformation": {"Status": processors.RUNNING},
        "FaceSearchResponse": [
            {
                "DetectedFace": {
                    k: face["Person"]["Face"][k] for k in DETECTED_FACE_MEMBERS if k in face["Person"]["Face"]
                },
                "MatchedFaces": [
                    {
                        "Similarity": match["Similarity"],
                        "Face": {k: match["Face"][k] for k in MATCHED_FACE_MEMBERS if k in match["Face"]},
                    }
                    for match in face["FaceMatches"]
                ],
            }
            for face in faces
        ],
    }
