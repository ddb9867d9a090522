"""Face Liveness: sessions (CreateFaceLivenessSession, GetFaceLivenessSessionResults), the
streaming API a liveness client speaks (StartFaceLivenessSession over WebSocket, AWS event-stream
framing), and the decision taken from the selfie video itself.

- ``sessions``: the session records (DynamoDB) and the two Rekognition operations.
- ``eventstream``: AWS event-stream messages, encoded and decoded.
- ``challenge``: the FaceMovementAndLightChallenge the server sends, and what the client reports.
- ``stream``: one StartFaceLivenessSession connection, transport-agnostic (local WebSocket server,
  API Gateway WebSocket API).
- ``decision``: face in the oval, movement, reflected colours and an anti-spoofing model's score,
  joined into a calibrated Confidence.
"""
