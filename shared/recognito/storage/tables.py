"""The PynamoDB models behind recognito's resources."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from recognito.settings import settings


def _meta(table: str) -> type:
    """A PynamoDB ``Meta`` naming the stack's table; the endpoint is left to botocore."""
    config = settings()
    return type(
        "Meta",
        (),
        {"table_name": f"{config.table_prefix}-{table}", "region": config.region, "billing_mode": "PAY_PER_REQUEST"},
    )


class CollectionRecord(Model):
    """A face collection. Counts are kept exact by atomic updates from the face and user writes."""

    Meta = _meta("collections")

    collection_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute()
    face_model_version = UnicodeAttribute()
    face_count = NumberAttribute(default=0)
    user_count = NumberAttribute(default=0)
    tags = MapAttribute(default=dict)


ALL_TABLES: tuple[type[Model], ...] = (CollectionRecord,)


def ensure_tables() -> None:
    """Create every table that does not exist yet (local mode and tests; deployed, SAM creates them)."""
    for model in ALL_TABLES:
        if not model.exists():
            model.create_table(wait=True)
