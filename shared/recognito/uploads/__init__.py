"""S3 upload triggers: objects created under a prefix run the Rekognition operation configured for it.

The path is the same deployed and local: an S3 ``ObjectCreated`` notification, wrapped in an SQS
event, reaches ``functions/s3_upload/app.py``. Deployed, S3 notifies an SQS queue whose
function reports partial batch failures, and a message that keeps failing moves to the
dead-letter queue. Under ``recognito serve``, the endpoint builds the same SQS event when its S3
stores an object and runs the same handler in-process (``recognito_local.uploads``).

- ``rules``: what to do per bucket and key prefix (``RECOGNITO_UPLOAD_RULES``, a JSON list).
- ``external_ids``: S3 keys <-> ``ExternalImageId``, reversibly.
- ``events``: S3 notification records and the SQS events that carry them.
- ``processor``: the batch handler, idempotent per object version and rule, recording each
  outcome in the uploads table.
"""

from recognito.uploads.external_ids import external_image_id, object_key
from recognito.uploads.rules import ACTIONS, Rule, UploadConfigError, parse_rules

__all__ = ["ACTIONS", "Rule", "UploadConfigError", "external_image_id", "object_key", "parse_rules"]
