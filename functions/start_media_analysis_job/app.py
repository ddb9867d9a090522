"""StartMediaAnalysisJob: starts moderating every image an S3 manifest lists; the results go to the output S3 prefix."""

from recognito.protocol import rekognition_operation
from recognito.video.media_analysis import start_media_analysis_job


@rekognition_operation("StartMediaAnalysisJob")
def handler(request: dict, context: object) -> dict:
    return start_media_analysis_job(request)
