"""The stream processor operations: Create, Describe, List, Start, Stop, Update, Delete.

A processor is a record (``StreamProcessorRecord``); StartStreamProcessor begins a session, an
execution of ``statemachines/stream_processor.asl.json`` that reads the Kinesis video stream and
analyses it until StopStreamProcessor (face search) or its StopSelector (connected home) ends it
(recognito.streams.session). Statuses move as Rekognition documents them::

    STOPPED -Start-> STARTING -session begins-> RUNNING -Stop-> STOPPING -session ends-> STOPPED
    (any failure of the session: FAILED; Update: UPDATING while it writes)

Start, Update and Delete of a processor that is not at rest, and Stop of one that is, answer
``ResourceInUseException``; every status change is a conditional write, so two callers racing
on one processor cannot both win.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from recognito.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage.tables import StreamProcessorRecord, get_or_raise

STOPPED, STARTING, RUNNING, FAILED, STOPPING, UPDATING = (
    "STOPPED",
    "STARTING",
    "RUNNING",
    "FAILED",
    "STOPPING",
    "UPDATING",
)
AT_REST = (STOPPED, FAILED)
FACE_SEARCH, CONNECTED_HOME = "FaceSearch", "ConnectedHome"
CONNECTED_HOME_LABELS = frozenset({"PERSON", "PET", "PACKAGE", "ALL"})
DEFAULT_FACE_MATCH_THRESHOLD = 80.0
DEFAULT_MIN_CONFIDENCE = 50.0
MAX_RESULTS = 1000
CONFIG_MEMBERS = (
    "Input",
    "Output",
    "RoleArn",
    "Settings",
    "NotificationChannel",
    "KmsKeyId",
    "RegionsOfInterest",
    "DataSharingPreference",
)


def state_machine_arn() -> str:
    config = settings()
    return config.stream_state_machine or (
        f"arn:{config.partition}:states:{config.region}:{config.account_id}:stateMachine:"
        f"{config.table_prefix}-stream-processors"
    )


def processor_arn(name: str) -> str:
    return settings().arn(f"streamprocessor/{name}")


def load(name: str) -> StreamProcessorRecord:
    return get_or_raise(StreamProcessorRecord, name, ResourceNotFoundException(f"Stream processor {name} not found"))


def config(record: StreamProcessorRecord) -> dict[str, Any]:
    return json.loads(record.config)


def kind(configuration: dict[str, Any]) -> str:
    """FaceSearch or ConnectedHome: what the processor's Settings ask for."""
    return FACE_SEARCH if configuration["Settings"].get(FACE_SEARCH) is not None else CONNECTED_HOME


# ---- validation ----------------------------------------------------------------------------------


def _check_config(configuration: dict[str, Any]) -> None:
    """The combinations Rekognition accepts: face search reads into a Kinesis data stream,
    connected home into S3 with an SNS topic; never both, never neither."""
    settings_ = configuration.get("Settings") or {}
    output = configuration.get("Output") or {}
    if not (configuration.get("Input") or {}).get("KinesisVideoStream", {}).get("Arn"):
        raise InvalidParameterException("Input must name a Kinesis video stream (KinesisVideoStream.Arn)")
    chosen = [name for name in (FACE_SEARCH, CONNECTED_HOME) if settings_.get(name) is not None]
    if len(chosen) != 1:
        raise InvalidParameterException("Settings must have exactly one of FaceSearch and ConnectedHome")
    if chosen[0] == FACE_SEARCH:
        if not settings_[FACE_SEARCH].get("CollectionId"):
            raise InvalidParameterException("FaceSearch settings require a CollectionId")
        if not (output.get("KinesisDataStream") or {}).get("Arn") or output.get("S3Destination") is not None:
            raise InvalidParameterException("A face search stream processor outputs to a Kinesis data stream only")
    else:
        labels = settings_[CONNECTED_HOME].get("Labels") or []
        unknown = sorted(set(labels) - CONNECTED_HOME_LABELS)
        if unknown:
            raise InvalidParameterException(
                f"Unsupported ConnectedHome labels {unknown}: use PERSON, PET, PACKAGE or ALL"
            )
        if not (output.get("S3Destination") or {}).get("Bucket") or output.get("KinesisDataStream") is not None:
            raise InvalidParameterException("A connected home stream processor outputs to an S3 destination only")
        if not (configuration.get("NotificationChannel") or {}).get("SNSTopicArn"):
            raise InvalidParameterException("A connected home stream processor requires a NotificationChannel")
    if chosen[0] == FACE_SEARCH and configuration.get("KmsKeyId"):
        raise InvalidParameterException("KmsKeyId encrypts a connected home processor's S3 output")
    _check_regions(configuration.get("RegionsOfInterest") or [])


def _check_regions(regions: list[dict[str, Any]]) -> None:
    """Each region a box or a polygon (three points at least), in ratios of the frame."""
    for region in regions:
        box, polygon = region.get("BoundingBox"), region.get("Polygon")
        if (box is None) == (polygon is None):
            raise InvalidParameterException("Each region of interest has either a BoundingBox or a Polygon")
        if box is not None:
            values = [box.get(key) for key in ("Left", "Top", "Width", "Height")]
            if (
                any(v is None or not 0 <= v <= 1 for v in values)
                or values[0] + values[2] > 1
                or values[1] + values[3] > 1
            ):
                raise InvalidParameterException("A region's BoundingBox must lie within the frame (ratios 0 to 1)")
        else:
            if len(polygon) < 3 or any(not (0 <= p.get("X", -1) <= 1 and 0 <= p.get("Y", -1) <= 1) for p in polygon):
                raise InvalidParameterException("A region's Polygon needs at least 3 points within the frame")


# ---- the operations ------------------------------------------------------------------------------


def create_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    configuration = {key: request[key] for key in CONFIG_MEMBERS if request.get(key) is not None}
    _check_config(configuration)
    now = datetime.now(UTC)
    record = StreamProcessorRecord(
        request["Name"],
        arn=processor_arn(request["Name"]),
        status=STOPPED,
        config=json.dumps(configuration, sort_keys=True),
        created=now,
        updated=now,
        tags=request.get("Tags") or {},
    )
    try:
        record.save(condition=StreamProcessorRecord.name.does_not_exist())
    except PutError as error:
        if _conditional(error):
            raise ResourceInUseException(f"Stream processor {request['Name']} already exists") from None
        raise
    return {"StreamProcessorArn": record.arn}


def describe_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    record = load(request["Name"])
    response: dict[str, Any] = {
        "Name": record.name,
        "StreamProcessorArn": record.arn,
        "Status": record.status,
        "CreationTimestamp": record.created,
        "LastUpdateTimestamp": record.updated,
        **config(record),
    }
    if record.status_message:
        response["StatusMessage"] = record.status_message
    return response


def list_stream_processors(request: dict[str, Any]) -> dict[str, Any]:
    names = sorted((record.name, record.status) for record in StreamProcessorRecord.scan())
    offset = decode_token("ListStreamProcessors", request["NextToken"]) if request.get("NextToken") else 0
    if not isinstance(offset, int) or not 0 <= offset <= len(names):
        raise InvalidPaginationTokenException("Invalid pagination token provided")
    size = min(int(request.get("MaxResults") or MAX_RESULTS), MAX_RESULTS)
    response: dict[str, Any] = {
        "StreamProcessors": [{"Name": name, "Status": status} for name, status in names[offset : offset + size]]
    }
    if offset + size < len(names):
        response["NextToken"] = encode_token("ListStreamProcessors", offset + size)
    return response


def start_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    record = load(request["Name"])
    configuration = config(record)
    session = _session(configuration, request)
    if kind(configuration) == FACE_SEARCH:
        from recognito.collections.service import get_collection

        get_collection(configuration["Settings"][FACE_SEARCH]["CollectionId"])
    session_id = str(uuid.uuid4())
    _move(record, AT_REST, STARTING, session_id=session_id, session=json.dumps(session), status_message=None)
    from recognito.video.jobs import client

    try:
        client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn(),
            name=session_id,
            input=json.dumps(
                {
                    "Name": record.name,
                    "SessionId": session_id,
                    "Kind": kind(configuration),
                    "Resume": False,
                    "Position": None,
                }
            ),
        )
    except Exception:
        _move(record, (STARTING,), FAILED, status_message="The stream processor's session could not start")
        raise
    return {"SessionId": session_id}


def _session(configuration: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The session's selectors: connected home needs both (it processes a stretch of the stream
    and stops); face search takes neither (it watches the live stream until stopped)."""
    start, stop = request.get("StartSelector"), request.get("StopSelector")
    if kind(configuration) == FACE_SEARCH:
        if start is not None or stop is not None:
            raise InvalidParameterException("StartSelector and StopSelector are for connected home stream processors")
        return {}
    selector = (start or {}).get("KVSStreamStartSelector") or {}
    given = [key for key in ("ProducerTimestamp", "FragmentNumber") if selector.get(key) is not None]
    if len(given) != 1:
        raise InvalidParameterException("KVSStreamStartSelector needs one of ProducerTimestamp and FragmentNumber")
    if not (stop or {}).get("MaxDurationInSeconds"):
        raise InvalidParameterException("StopSelector with MaxDurationInSeconds is required for connected home")
    return {"Start": {given[0]: selector[given[0]]}, "MaxDurationInSeconds": stop["MaxDurationInSeconds"]}


def stop_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    record = load(request["Name"])
    _move(record, (STARTING, RUNNING), STOPPING)
    return {}


def update_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    record = load(request["Name"])
    configuration = config(record)
    deleting = set(request.get("ParametersToDelete") or [])
    home = (request.get("SettingsForUpdate") or {}).get("ConnectedHomeForUpdate")
    if home is not None and kind(configuration) != CONNECTED_HOME:
        raise InvalidParameterException("ConnectedHomeForUpdate applies to connected home stream processors only")
    if "ConnectedHomeMinConfidence" in deleting and (
        kind(configuration) != CONNECTED_HOME or (home or {}).get("MinConfidence") is not None
    ):
        raise InvalidParameterException("ConnectedHomeMinConfidence cannot be deleted here")
    if "RegionsOfInterest" in deleting and request.get("RegionsOfInterestForUpdate") is not None:
        raise InvalidParameterException("RegionsOfInterest cannot be both updated and deleted")
    if home:
        current = configuration["Settings"][CONNECTED_HOME]
        current.update({key: value for key, value in home.items() if value is not None})
    if "ConnectedHomeMinConfidence" in deleting:
        configuration["Settings"][CONNECTED_HOME].pop("MinConfidence", None)
    if request.get("RegionsOfInterestForUpdate") is not None:
        configuration["RegionsOfInterest"] = request["RegionsOfInterestForUpdate"]
    if "RegionsOfInterest" in deleting:
        configuration.pop("RegionsOfInterest", None)
    if request.get("DataSharingPreferenceForUpdate") is not None:
        configuration["DataSharingPreference"] = request["DataSharingPreferenceForUpdate"]
    _check_config(configuration)
    before = record.status
    _move(record, AT_REST, UPDATING)
    _move(record, (UPDATING,), before, config=json.dumps(configuration, sort_keys=True))
    return {}


def delete_stream_processor(request: dict[str, Any]) -> dict[str, Any]:
    record = load(request["Name"])
    try:
        record.delete(condition=StreamProcessorRecord.status.is_in(*AT_REST))
    except DeleteError as error:
        if _conditional(error):
            raise ResourceInUseException(f"Stream processor {record.name} is {_status_now(record)}") from None
        raise
    return {}


# ---- status changes ------------------------------------------------------------------------------


def _move(record: StreamProcessorRecord, expected: tuple[str, ...], status: str, **attributes: Any) -> None:
    """Set ``status`` (and ``attributes``) if the processor is still in one of ``expected``,
    else ``ResourceInUseException``."""
    actions = [StreamProcessorRecord.status.set(status), StreamProcessorRecord.updated.set(datetime.now(UTC))]
    for name, value in attributes.items():
        attribute = getattr(StreamProcessorRecord, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    try:
        record.update(actions=actions, condition=StreamProcessorRecord.status.is_in(*expected))
    except UpdateError as error:
        if _conditional(error):
            raise ResourceInUseException(f"Stream processor {record.name} is {_status_now(record)}") from None
        raise


def set_status(name: str, expected: tuple[str, ...], status: str, message: str | None = None) -> bool:
    """The session's own moves (RUNNING, STOPPED, FAILED); False when the processor had moved on
    (deleted, or stopped by a later call), which the session then respects."""
    try:
        _move(load(name), expected, status, status_message=message)
    except (ResourceInUseException, ResourceNotFoundException):
        return False
    return True


def _status_now(record: StreamProcessorRecord) -> str:
    try:
        return load(record.name).status
    except ResourceNotFoundException:
        return "deleted"


def _conditional(error: Exception) -> bool:
    cause = getattr(error, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"
