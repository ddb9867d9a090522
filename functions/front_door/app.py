"""The front door: ``POST /`` from a stock SDK, routed by ``X-Amz-Target`` to the operation's function."""

from recognito.frontdoor import dispatch, lambda_invoker

invoke = lambda_invoker()


def handler(event: dict, context: object) -> dict:
    return dispatch(event, invoke)
