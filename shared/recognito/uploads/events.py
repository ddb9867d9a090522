"""S3 ``ObjectCreated`` notifications, and the SQS events that carry them to the upload function.

The records follow S3's "Event message structure" (eventVersion 2.1): the object key is URL-encoded
with spaces as ``+``; ``versionId`` is present only in versioned buckets; ``sequencer`` orders the
events of one key. ``recognito serve`` and the sample event build them here, and the upload
function reads them here, so the local and deployed paths agree on the format.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus


@dataclass(frozen=True)
class CreatedObject:
    """One object an ``ObjectCreated`` event announces (key decoded)."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None = None
    event_name: str = "ObjectCreated:Put"

    @property
    def version(self) -> str:
        """What tells this upload of the key from another: the version id, else the ETag."""
        return self.version_id or self.etag


def notification_record(
    obj: CreatedObject, *, region: str, when: datetime | None = None, sequencer: str | None = None
) -> dict[str, Any]:
    """The S3 notification record for ``obj``, as S3 sends it."""
    when = when or datetime.now(UTC)
    s3_object: dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "eTag": obj.etag}
    if obj.version_id:
        s3_object["versionId"] = obj.version_id
    s3_object["sequencer"] = sequencer or f"{time.time_ns():016X}"
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "eventName": obj.event_name,
        "userIdentity": {"principalId": "AWS:recognito"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "recognito-uploads",
            "bucket": {
                "name": obj.bucket,
                "ownerIdentity": {"principalId": "recognito"},
                "arn": f"arn:aws:s3:::{obj.bucket}",
            },
            "object": s3_object,
        },
    }


def sqs_record(
    body: str,
    *,
    queue_arn: str,
    message_id: str | None = None,
    receipt_handle: str | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller hands the function, for a message ``body``."""
    now_ms = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or uuid.uuid4().hex,
        "body": body,
        "attributes": attributes
        or {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "AIDAJHIPRHEMV73VRJEBU",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def sqs_event(bodies: Iterable[str], *, queue_arn: str, receive_count: int = 1) -> dict[str, Any]:
    """The event Lambda's SQS poller hands the function: one record per message body."""
    records = [sqs_record(body, queue_arn=queue_arn) for body in bodies]
    for record in records:
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return {"Records": records}


def created_objects(body: str) -> list[CreatedObject]:
    """The objects an SQS message body announces.

    The body is an S3 notification (``{"Records": [...]}``), or one wrapped by SNS when the bucket
    notifies a topic without raw delivery. S3's ``s3:TestEvent`` (sent when notifications are
    configured) and events other than ``ObjectCreated:*`` announce nothing. Anything else is
    ``ValueError``: a message the function cannot read must not be taken as handled.
    """
    try:
        message = json.loads(body)
    except ValueError:
        raise ValueError("message body is not JSON") from None
    if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
        return created_objects(message["Message"])
    if isinstance(message, dict) and message.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(message, dict) or not isinstance(message.get("Records"), list):
        raise ValueError("message body is not an S3 event notification")
    objects = []
    for record in message["Records"]:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        item = s3["object"]
        objects.append(
            CreatedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(item["key"]),
                size=int(item.get("size", 0)),
                etag=item.get("eTag", ""),
                version_id=item.get("versionId") or None,
                event_name=record["eventName"],
            )
        )
    return objects
