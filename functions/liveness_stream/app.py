"""Face Liveness' streaming side (LivenessStream, LivenessDecision): the WebSocket API's routes and the decision."""

from recognito.liveness.apigateway import handle


def handler(event: dict, context: object) -> dict:
    return handle(event, context)
