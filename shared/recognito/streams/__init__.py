"""Stream processors: Rekognition Video on a Kinesis video stream (face search, connected home)."""
