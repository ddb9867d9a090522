"""StartFaceLivenessSession's WebSocket server on its own, for the deployed stack.

API Gateway WebSocket APIs refuse binary frames (they close the connection with 1003, as their
documentation says), and the AWS SDKs, Amplify's FaceLivenessDetector among them, send every
event-stream message as a binary frame. So a stock client needs a server that takes binary
frames: this one, which is the local endpoint's (recognito_local.liveness: wsproto framing, the
presigned URL and each message's signature checked, the decision taken in the connection's
thread) without the rest of ``recognito serve``. It talks to whatever AWS the environment names
(DynamoDB for sessions and access keys, S3 for the caller's output bucket), so run as a container
task (template.yaml, ``LivenessContainerImage``; ``deploy/liveness/Dockerfile``) behind a load
balancer that passes WebSockets through, it serves the stack's sessions.

    python -m recognito_local.liveness_server [--host 0.0.0.0] [--port 8080]

``GET /ping`` answers 200 for the load balancer's health check; anything else but the liveness
WebSocket is 404.
"""

from __future__ import annotations

import argparse
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from recognito_local import liveness

HEALTH_PATH = "/ping"


class LivenessRequestHandler(BaseHTTPRequestHandler):
    """One connection: the liveness WebSocket, the health check, or 404."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if liveness.wants(self):
            liveness.serve(self)
        elif urlsplit(self.path).path == HEALTH_PATH:
            self._answer(200, b"ok\n")
        else:
            self._answer(404, b"not found\n")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        logging.getLogger("recognito_local").debug(format, *args)


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    """The server, bound (port 0: any free one), each connection on its own thread."""
    server = ThreadingHTTPServer((host, port), LivenessRequestHandler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a container's port, behind its load balancer
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with make_server(args.host, args.port) as server:
        logging.getLogger("recognito_local").info("liveness WebSocket server on %s:%d", args.host, args.port)
        server.serve_forever()


if __name__ == "__main__":
    main()
