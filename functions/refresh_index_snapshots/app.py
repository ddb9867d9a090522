"""Scheduled: brings the S3 snapshots of large collections' search indexes up to date."""

from recognito.collections.snapshots import refresh_snapshots
from recognito.logs import structured_logger

logger = structured_logger()


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    refreshed = refresh_snapshots(max_seconds=context.get_remaining_time_in_millis() / 1000 - 30)
    for result in refreshed:
        logger.info("snapshot refreshed", extra=result)
    return {"refreshed": len(refreshed)}
