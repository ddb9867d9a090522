"""ListMediaAnalysisJobs: the media analysis jobs, newest first, a page at a time."""

from recognito.protocol import rekognition_operation
from recognito.video.media_analysis import list_media_analysis_jobs


@rekognition_operation("ListMediaAnalysisJobs")
def handler(request: dict, context: object) -> dict:
    return list_media_analysis_jobs(request)
