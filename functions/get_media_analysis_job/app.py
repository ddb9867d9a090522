"""GetMediaAnalysisJob: a media analysis job's status, failure details and the S3 locations of its results and
summary.
"""

from recognito.protocol import rekognition_operation
from recognito.video.media_analysis import get_media_analysis_job


@rekognition_operation("GetMediaAnalysisJob")
def handler(request: dict, context: object) -> dict:
    return get_media_analysis_job(request)
