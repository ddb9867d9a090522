"""End-to-end fixtures: a real ``recognito serve`` in a subprocess, reached with stock boto3.

One endpoint per test session (starting one costs a second or two); ``endpoint.restart()`` stops
it with SIGTERM, as a user's Ctrl-C or a service manager would, and starts it again on the same
port and data directory, so clients made before the restart keep working. ``endpoint.kill()``
then ``endpoint.start()`` is a crash and a restart.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import boto3
import pytest

HEALTH_PATH = "/_recognito/health"
STARTUP_SECONDS = 120
STOP_SECONDS = 60


class Endpoint:
    """A ``recognito serve`` subprocess on ``url``, keeping its state in ``data_dir``."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it while it runs
        command = [sys.executable, "-m", "recognito_local", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir)]
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        self._wait_until_ready()

    def stop(self) -> None:
        """SIGTERM, which makes the server finish its requests and save its state."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
                raise RuntimeError(f"recognito serve ignored SIGTERM for {STOP_SECONDS} s\n{self.log()}") from None
        self._process = None
        if self._log is not None:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to save."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        """What the server printed so far: shown when it fails to start."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"recognito serve exited with {self._process.returncode}\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + HEALTH_PATH, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or still starting (503)
            time.sleep(0.1)
        self._process.kill()
        raise RuntimeError(f"recognito serve was not ready within {STARTUP_SECONDS} s\n{self.log()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("recognito-serve")
    server = Endpoint(root / "data", root / "serve.log")
    server.start()
    yield server
    server.stop()


def _client(service: str, endpoint: Endpoint, **options: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **options,
    )


@pytest.fixture(scope="session")
def unvalidated_rekognition(endpoint: Endpoint) -> Any:
    """A client that sends what it is given: the server's own validation must answer."""
    from botocore.config import Config

    return _client("rekognition", endpoint, config=Config(parameter_validation=False))


@pytest.fixture(scope="session")
def rekognition(endpoint: Endpoint) -> Any:
    return _client("rekognition", endpoint)


@pytest.fixture(scope="session")
def s3(endpoint: Endpoint) -> Any:
    return _client("s3", endpoint)


@pytest.fixture(scope="session")
def dynamodb(endpoint: Endpoint) -> Any:
    return _client("dynamodb", endpoint)


@pytest.fixture(scope="session")
def aws_client(endpoint: Endpoint) -> Any:
    """A stock boto3 client of any service, pointed at the endpoint: ``aws_client("sns")``."""
    return lambda service: _client(service, endpoint)
