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
MAX_RECORDS_PER_PUT = 500  # Kinesis PutRecords' limit


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
    records: list[dict[str, Any]] = []
    if frames:
        search = face_searcher(request)  # the collection and its index read once for the read's frames
        records = [frame_record(stream_arn, info, search(jpeg), regions) for info, jpeg in frames]
    output = configuration["Output"]["KinesisDataStream"]["Arn"]
    kinesis = jobs.client("kinesis")
    for first in range(0, len(records), MAX_RECORDS_PER_PUT):
        batch = records[first : first + MAX_RECORDS_PER_PUT]
        kinesis.put_records(
            StreamARN=output,
            Records=[{"Data": json.dumps(r).encode(), "PartitionKey": event["SessionId"]} for r in batch],
        )
    return {"Records": len(records)}


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
