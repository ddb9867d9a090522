"""CompareFaces: latency, memory, cold start, and verification accuracy of each FaceNet variant.

    .venv/bin/python bench/compare_faces.py [--quick]

Latency is the service call (two decodes, two detections, one embedding run, FaceDetails) for
two pairs: Obama's 910x1137 portrait against his 626x1200 one (one face each), and the astronaut
(512x512 PNG) against a 1920x1280 group photograph of three women. Each thread count runs in a
fresh process (RECOGNITO_THREADS is read when a session is created); cold start is that process's
first call: imports, sessions and the first inferences.

Accuracy: every face of tests/face_datasets.py's photographs is embedded once per variant.
Genuine pairs are photographs of one person taken apart (not crops or frames of one shot);
impostor pairs are different named people, named people against group faces, and faces within
one group photograph. Reported: ROC AUC, TAR at FAR 1e-2 and 1e-3 (empirical, so only as fine as
the pair counts allow), the true- and false-match rates at Similarity 80, and the false-match rate
at 80 that a normal fit of the cross-photograph impostor cosines predicts, since a few hundred
pairs cannot show a rate of 1e-3. What packages ship is small: 4 named people (Obama in three
photographs, the others in one) and 22 unnamed women in 6 group photographs, so AUC and TAR rest
on 3 genuine pairs. No package on PyPI or npm was found to ship a labelled set of 10+ people
(LFW, Olivetti/AT&T, deepface's and face-api.js's test sets are all fetched from elsewhere or
left out of their distributions).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

VARIANTS = ["facenet", "facenet-fp16", "facenet-int8", "facenet-int8-static"]


def letterboxed(photo: bytes, size: tuple[int, int] = (640, 480)) -> bytes:
    """The photograph fitted into a ``size`` JPEG (the issue's 640x480 case)."""
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(photo)).convert("RGB")
    picture.thumbnail(size)
    canvas = Image.new("RGB", size, (128, 128, 128))
    canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def latency(quick: bool) -> None:
    from _latency import report
    from face_datasets import group_photos, photo_bytes
    from face_scenes import encode, rgb

    group = next(photo for photo in group_photos() if photo.name == "sample1.jpg")
    pairs = {
        "640x480 obama 1:1": (letterboxed(photo_bytes("obama.jpg")), letterboxed(photo_bytes("obama2.jpg"))),
        "obama 1:1": (photo_bytes("obama.jpg"), photo_bytes("obama2.jpg")),
        "astronaut 1:3 group": (encode(rgb("astronaut")), encode(group.rgb, "JPEG", quality=90)),
    }
    report("recognito.faces.compare:compare_faces", pairs, 8 if quick else 30, width=28)


def roc_auc(genuine, impostor) -> float:
    """Probability that a genuine pair outscores an impostor pair (ties count half)."""
    import numpy as np

    g, i = np.asarray(genuine)[:, None], np.asarray(impostor)[None, :]
    return float((g > i).mean() + 0.5 * (g == i).mean())


def tar_at_far(genuine, impostor, far: float) -> tuple[float, float]:
    """(TAR, threshold) at the smallest cosine whose empirical FAR is at most ``far``."""
    import numpy as np

    impostor = np.sort(np.asarray(impostor))[::-1]
    allowed = int(np.floor(far * len(impostor)))  # impostors that may pass
    threshold = float(impostor[allowed]) if allowed < len(impostor) else -1.0  # strictly above it
    return float((np.asarray(genuine) > threshold).mean()), threshold


def accuracy(variants: list[str]) -> None:
    import numpy as np
    from face_datasets import group_photos, labelled_photos
    from recognito.faces.similarity import cosine_for_similarity
    from recognito_inference import face_embedder
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.sessions import model_path
    from scipy.stats import norm

    named = [(photo, detect_faces(photo.rgb)[:1]) for photo in labelled_photos()]
    groups = [(photo, detect_faces(photo.rgb)) for photo in group_photos()]
    identities = sorted({photo.identity for photo, _ in named})
    per_identity = {i: sum(photo.identity == i for photo, _ in named) for i in identities}
    group_faces = sum(len(d) for _, d in groups)
    print(
        f"data: {len(identities)} named people in {len(named)} photographs {per_identity}; "
        f"{len(groups)} group photographs with {group_faces} faces"
    )
    cos80 = cosine_for_similarity(80.0, "1.0")  # the FaceNet variants' version
    print(f"Similarity 80 = cosine {cos80:.3f}; 99 = {cosine_for_similarity(99.0, '1.0'):.3f}")
    header = (
        f"{'variant':>20} {'MB':>5} {'ms/face':>7} {'AUC':>6} {'TAR@1e-2':>9} {'TAR@1e-3':>9} "
        f"{'TMR@80':>7} {'FMR@80':>7} {'FMR@80 fit':>10}  genuine cosines / impostor mean, sd, max"
    )
    print(header)
    for variant in variants:
        path = model_path(variant)
        if not path.exists():
            print(f"{variant:>20}  (not built)")
            continue

        def embed(rgb, detections, variant=variant):
            return face_embedder.embed_crops(face_embedder.face_crops(rgb, detections), variant)

        named_emb = np.concatenate([embed(photo.rgb, d) for photo, d in named])
        ids = [photo.identity for photo, _ in named]
        genuine, cross, same_photo = [], [], []
        for i, j in itertools.combinations(range(len(named_emb)), 2):
            (genuine if ids[i] == ids[j] else cross).append(float(named_emb[i] @ named_emb[j]))
        for photo, detections in groups:
            faces = embed(photo.rgb, detections)
            cross.extend((faces @ named_emb.T).ravel().tolist())
            same_photo.extend(float(faces[i] @ faces[j]) for i, j in itertools.combinations(range(len(faces)), 2))
        impostor = np.array(cross + same_photo)
        genuine = np.array(genuine)

        crops = face_embedder.face_crops(named[0][0].rgb, named[0][1])
        face_embedder.embed_crops(crops, variant)
        began = time.perf_counter()
        for _ in range(10):
            face_embedder.embed_crops(crops, variant)
        ms = (time.perf_counter() - began) * 100

        tar2, _ = tar_at_far(genuine, impostor, 1e-2)
        tar3, _ = tar_at_far(genuine, impostor, 1e-3)
        fitted = norm.sf(cos80, loc=np.mean(cross), scale=np.std(cross))
        print(
            f"{variant:>20} {path.stat().st_size / 1e6:>5.0f} {ms:>7.1f} {roc_auc(genuine, impostor):>6.3f} "
            f"{tar2:>9.2f} {tar3:>9.2f} {(genuine >= cos80).mean():>7.2f} {(impostor >= cos80).mean():>7.3f} "
            f"{fitted:>10.1e}  {np.round(genuine, 2).tolist()} / {impostor.mean():.2f}, {impostor.std():.2f}, "
            f"{impostor.max():.2f} (cross-photo: {np.mean(cross):.2f}, {np.std(cross):.2f}, {np.max(cross):.2f}; "
            f"same photo max {max(same_photo):.2f})"
        )
    print(
        f"pairs: {len(genuine)} genuine, {len(impostor)} impostor "
        f"({len(cross)} across photographs, {len(same_photo)} within group photographs)"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"CompareFaces on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), model in use: ", end="")
    from recognito_inference.face_embedder import model_name

    print(model_name())
    latency(quick)
    accuracy(VARIANTS)


if __name__ == "__main__":
    main()
