"""S3 upload triggers under ``recognito serve``: the deployed S3 -> SQS -> Lambda path, in one process.

When the embedded S3 creates an object (PutObject, a POST upload, CopyObject,
CompleteMultipartUpload) that a rule matches, the S3 notification goes into the endpoint's own
SQS queue ``<prefix>-uploads``, as S3 would send it. A background thread plays Lambda's SQS
poller: it receives up to ``BATCH_SIZE`` messages, runs ``functions/s3_upload/app.py``'s handler
on the SQS event (the same file deployed), deletes what succeeded, and makes the records named in
``batchItemFailures`` visible again after a short back-off. The queue's redrive policy (moto
honours it on receive) moves a message received ``MAX_RECEIVES`` times to ``<prefix>-uploads-dlq``,
where ``aws sqs receive-message`` finds it. Waiting messages are saved with the rest of the
state, so uploads not yet processed when the endpoint stops are processed after it starts again.

Rules, in the format of the stack's ``UploadRules`` (recognito.uploads.rules) but each naming its
``bucket``, since every bucket of the endpoint is local:

- ``<data dir>/triggers.json``: a JSON list, read again whenever the file changes;
- ``recognito serve --trigger '<one rule as JSON>'``, repeatable, for the life of the process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from recognito.registry import registry
from recognito.settings import settings
from recognito.uploads.events import CreatedObject, notification_record, sqs_record
from recognito.uploads.rules import RULES_ENV, Rule, UploadConfigError, parse_rules

log = logging.getLogger("recognito_local")

TRIGGERS_FILE = "triggers.json"
BATCH_SIZE = 5
MAX_RECEIVES = 3  # as the stack's queues (template.yaml, maxReceiveCount)
VISIBILITY_SECONDS = 900  # while the handler runs: Lambda's longest timeout
BACKOFF_SECONDS = 1  # before a failed record is delivered again (deployed: the queue's visibility timeout)
POLL_SECONDS = 0.5


def parse_local_rules(config: str | list[Any], source: str) -> list[Rule]:
    """Rules that each name a bucket; ``UploadConfigError`` naming ``source`` otherwise."""
    try:
        rules = parse_rules(config)
    except UploadConfigError as error:
        raise UploadConfigError(f"{source}: {error}") from None
    unbound = [rule.action for rule in rules if rule.bucket is None]
    if unbound:
        raise UploadConfigError(f"{source}: every local rule must name its bucket (rules for {unbound} do not)")
    return rules


class UploadTriggers:
    """The rules, the hook on the embedded S3, and the poller thread."""

    def __init__(self, data_dir: Path, cli_rules: list[str]) -> None:
        self.file = data_dir / TRIGGERS_FILE
        self.cli_rules = [rule for text in cli_rules for rule in parse_local_rules(f"[{text}]", "--trigger")]
        self._file_rules: list[Rule] = []
        self._file_stamp: tuple[int, int] | None = None
        self._rules_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        config = settings()
        self.queue_name = f"{config.table_prefix}-uploads"
        self.queue_url = ""
        self.queue_arn = f"arn:{config.partition}:sqs:{config.region}:{config.account_id}:{self.queue_name}"

    # ---- rules --------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        """The CLI's rules and the file's, read again if the file changed since last time."""
        with self._rules_lock:
            try:
                stat = self.file.stat()
                stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._file_stamp:
                self._file_stamp = stamp
                self._file_rules = self._read_file() if stamp else []
            return self.cli_rules + self._file_rules

    def _read_file(self) -> list[Rule]:
        try:
            rules = parse_local_rules(self.file.read_text(), str(self.file))
        except (OSError, UploadConfigError) as error:
            log.error("upload triggers: %s; its rules are off until it is fixed", error)
            return []
        log.info("upload triggers: %d rule(s) from %s", len(rules), self.file)
        return rules

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Create the queues, hook the embedded S3, start the poller (processing what was waiting)."""
        import boto3

        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName=f"{self.queue_name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
        self.queue_url = sqs.create_queue(QueueName=self.queue_name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
        self.hook()
        self.rules()
        self._thread = threading.Thread(target=self._poll, args=(sqs,), name="recognito-uploads", daemon=True)
        self._thread.start()
        self._wake.set()  # messages saved by an earlier run are processed now

    def hook(self) -> None:
        """Queue a message for every created object a rule matches (from now on; again is harmless)."""
        _hook_s3(self._object_created)

    def stop(self, timeout: float) -> None:
        """Finish the batch in hand; messages still waiting stay in the queue for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("upload triggers: a batch was still running after %.0f s", timeout)

    # ---- S3 -> SQS ----------------------------------------------------------------------------

    def _object_created(self, account_id: str, event_name: str, bucket: Any, key: Any) -> None:
        """Called by the embedded S3 for every created object, inside the request that created it."""
        if not any(rule.matches(bucket.name, key.name) for rule in self.rules()):
            return
        from moto.sqs.models import sqs_backends

        obj = CreatedObject(
            bucket=bucket.name,
            key=key.name,
            size=key.size,
            etag=key.etag.strip('"'),
            version_id=key.version_id if bucket.is_versioned else None,
            event_name=event_name.removeprefix("s3:"),
        )
        body = json.dumps({"Records": [notification_record(obj, region=bucket.region_name)]})
        try:
            sqs_backends[account_id][settings().region].send_message(queue_name=self.queue_name, message_body=body)
        except Exception:  # the object is stored either way, as with S3's own notifications
            log.exception("upload triggers: could not queue s3://%s/%s", bucket.name, key.name)
            return
        self._wake.set()

    # ---- SQS -> the upload function -------------------------------------------------------------

    def _poll(self, sqs: Any) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                return
            try:
                busy = self._poll_once(sqs)
            except Exception:
                log.exception("upload triggers: polling %s failed", self.queue_name)
                busy = True
            if not busy:
                self._wake.clear()
                if self._waiting(sqs):  # a message queued between the receive and the clear
                    self._wake.set()
            elif self._stop.wait(POLL_SECONDS):
                return

    def _waiting(self, sqs: Any) -> bool:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)["Attributes"]
        return any(int(attributes.get(name, 0)) for name in names)

    def _poll_once(self, sqs: Any) -> bool:
        """One receive and, if it brought messages, one invocation. True while work remains."""
        messages = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            VisibilityTimeout=VISIBILITY_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return self._waiting(sqs)  # some are invisible, waiting for their back-off
        event = {
            "Records": [
                sqs_record(
                    message["Body"],
                    queue_arn=self.queue_arn,
                    message_id=message["MessageId"],
                    receipt_handle=message["ReceiptHandle"],
                    attributes=message.get("Attributes"),
                )
                for message in messages
            ]
        }
        failed = self._invoke(event)
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=BACKOFF_SECONDS
                )
            else:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _invoke(self, event: dict[str, Any]) -> set[str]:
        """Run the upload function; the message ids it reports failed (all of them if it raised)."""
        from recognito_local.invoke import call_handler

        ids = {record["messageId"] for record in event["Records"]}
        # Deployed, the function reads its rules from its environment; here, the current ones.
        os.environ[RULES_ENV] = json.dumps([rule.as_dict() for rule in self.rules()])
        settings.cache_clear()
        # Deployed, two functions share this code, each running the actions it has models for;
        # here one runs them all (RECOGNITO_UPLOAD_ACTIONS unset).
        try:
            reply = call_handler(registry().functions["S3UploadFaces"], event)
        except Exception:
            log.exception("upload function failed on %d message(s)", len(ids))
            return ids
        failed = {item["itemIdentifier"] for item in (reply or {}).get("batchItemFailures", [])}
        log.info("uploads: %d processed, %d to retry", len(ids) - len(failed), len(failed))
        return failed


def _hook_s3(created: Any) -> None:
    """Call ``created(account_id, event_name, bucket, key)`` for every object the embedded S3 creates.

    moto's S3 announces every change through ``moto.s3.notifications.send_event`` (its own bucket
    notifications start there), for each way of creating an object; wrapping it catches them all.
    """
    from moto.s3 import notifications

    original = getattr(notifications.send_event, "__wrapped__", notifications.send_event)

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        original(account_id, event_name, bucket, key)
        name = str(getattr(event_name, "value", event_name))
        if name.startswith("s3:ObjectCreated:"):
            created(account_id, name, bucket, key)

    send_event.__wrapped__ = original  # type: ignore[attr-defined]
    notifications.send_event = send_event
