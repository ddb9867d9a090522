"""The video workers (VideoDecode, VideoLabels, VideoFaces, VideoJobs): Task states of the VideoJobs state machine."""

from recognito.video.workers import run


def handler(event: dict, context: object) -> dict:
    return run(event)
