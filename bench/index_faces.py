"""IndexFaces throughput, in-process against moto (labelled: local figures, not AWS's).

Two numbers: whole IndexFaces calls per second on a real one-face photograph (detection, embedding
and the sequenced DynamoDB transaction), and the storage path alone (faces per second through the
transactions, with embeddings already made). Writers racing on one collection are exercised through
`recognito serve` by tests/e2e/test_faces_e2e.py (in-process moto has no locking to race on).
moto stands in for DynamoDB here: deployed, each transaction is a network round trip (~10-20 ms)
and DynamoDB, not this process, bounds a single collection's write rate.
"""

from __future__ import annotations

import io
import os
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("RECOGNITO_AUTH", "off")
for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(variable, None)

import numpy as np  # noqa: E402
from moto import mock_aws  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    from recognito.collections.faces import NewFace, add_faces
    from recognito.collections.indexing import index_faces
    from recognito.collections.service import create_collection, describe_collection
    from recognito.faces.similarity import FACE_MODEL_VERSION, face_model
    from recognito.storage import ensure_tables

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    photo = buffer.getvalue()
    rng = np.random.default_rng(0)
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}

    with mock_aws():
        ensure_tables()
        create_collection({"CollectionId": "bench"})
        index_faces({"CollectionId": "bench", "Image": {"Bytes": photo}})  # warm-up: sessions
        calls = 20
        start = time.perf_counter()
        for _ in range(calls):
            index_faces({"CollectionId": "bench", "Image": {"Bytes": photo}, "QualityFilter": "NONE"})
        seconds = time.perf_counter() - start
        print(
            f"IndexFaces (512x512 photo, 1 face), serial: {calls / seconds:.1f} calls/s, "
            f"{seconds / calls * 1000:.0f} ms each"
        )

        def store(faces: int) -> None:
            vectors = rng.standard_normal((faces, face_model(FACE_MODEL_VERSION).dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            add_faces(
                "bench",
                [NewFace(v, box, 99.0) for v in vectors],
                version=FACE_MODEL_VERSION,
                image_id=str(uuid.uuid4()),
                external_image_id=None,
            )

        for per_call in (1, 10, 100):
            rounds = max(5, 200 // per_call)
            start = time.perf_counter()
            for _ in range(rounds):
                store(per_call)
            seconds = time.perf_counter() - start
            print(f"storage path, {per_call:>3} faces a call, serial: {rounds * per_call / seconds:,.0f} faces/s")
        print(f"faces in the collection: {describe_collection({'CollectionId': 'bench'})['FaceCount']}")


if __name__ == "__main__":
    main()
