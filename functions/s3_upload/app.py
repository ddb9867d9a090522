"""S3 uploads: SQS batches of S3 ObjectCreated notifications run the operations the upload rules name."""

from recognito.uploads.processor import process_batch


def handler(event: dict, context: object) -> dict:
    return process_batch(event, context)
