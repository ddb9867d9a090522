"""The stream processor workers (StreamRead, StreamFaceSearch, StreamConnectedHome): the session's Task states."""

from recognito.streams.workers import run


def handler(event: dict, context: object) -> dict:
    return run(event)
