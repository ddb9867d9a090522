"""DynamoDB tables through PynamoDB: one model per resource kind.

Table names come from the environment (``RECOGNITO_TABLE_PREFIX``), so one account can hold
several stacks; the endpoint comes from botocore's own configuration (``AWS_ENDPOINT_URL``), so
the same models talk to DynamoDB deployed and to the embedded backend locally.
"""

from recognito.storage.tables import (
    ALL_TABLES,
    CelebrityRecord,
    CollectionRecord,
    FaceRecord,
    UploadRecord,
    UserRecord,
    ensure_tables,
)

__all__ = [
    "ALL_TABLES",
    "CelebrityRecord",
    "CollectionRecord",
    "FaceRecord",
    "UploadRecord",
    "UserRecord",
    "ensure_tables",
]
