"""The stream processor workers (StreamRead, StreamFaceSearch, StreamConnectedHome): Task states of the StreamProcessors state machine."""

from recognito.streams.workers import run


def handler(event: dict, context: object) -> dict:
    return run(event)
