"""DetectProtectiveEquipment: latency, and how reliable each part is.

    .venv/bin/python bench/detect_protective_equipment.py [--quick] [--reliability-only]

Latency is the service call (decode, pose, body parts, the three cover measures, response) on a
one-person 512x512 PNG (the astronaut) and a four-person 1920x1537 JPEG (face-api's sample6),
each thread count in a fresh process (RECOGNITO_THREADS is read when a session is created).

Reliability, on the real photographs the tests use (tests/face_datasets.py: 6 one-person portraits,
6 group photographs, 28 people) and on the same photographs with equipment drawn on
(tests/ppe_scenes.py):

- people: faces CenterFace finds that fall inside a person's FACE part (recall), and people with
  no such face (mostly turned away or cut off, not always wrong);
- FACE_COVER, HEAD_COVER, HAND_COVER: the measure on every bare part (false positives at 0.5) and
  on every part with the equipment drawn on (detections at 0.5), with the ROC AUC between them;
  the head and hand calibrations are logistic fits of these, refitted here leaving one photograph
  out at a time (the accuracy printed is on the photographs left out). FACE_COVER's positives
  include the masks pulled down under the chin (still equipment, not covering);
- where the reported covers are: the whole pipeline on the painted photographs (masks worn and
  pulled down, hard hats on the brow and pushed back, gloves), each reported box's best IoU with
  a painted cover's box, and how often CoversBodyPart is right (true, except under the chin).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def photos() -> dict[str, bytes]:
    from face_datasets import group_photos
    from face_scenes import encode, rgb

    group = next(p for p in group_photos() if p.name == "sample6.jpg")
    return {"astronaut 512x512": encode(rgb("astronaut")), "4 people 1920x1537": encode(group.rgb, "JPEG", quality=90)}


def latency(quick: bool) -> None:
    from _latency import report

    target = "recognito.analysis.ppe:detect_protective_equipment"
    report(target, photos(), [8, 5] if quick else [30, 15], width=30)


# ------------------------------------------------------------------------------------ reliability
def _auc(neg: list[float], pos: list[float]) -> float:
    import numpy as np

    n, p = np.asarray(neg)[:, None], np.asarray(pos)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def _fit_logistic(x: list[float], y: list[int], iters: int = 3000) -> tuple[float, float]:
    """(slope, midpoint) of P(y=1) = 1 / (1 + exp(-slope (x - midpoint))), by gradient descent on
    the log loss, standardized for a well-conditioned fit."""
    import numpy as np

    x_arr, y_arr = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mu, sd = x_arr.mean(), x_arr.std() or 1.0
    z = (x_arr - mu) / sd
    a = b = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(a * z + b)))
        a -= 0.5 * float(np.mean((p - y_arr) * z)) + 1e-3 * a  # a little L2: separable data
        b -= 0.5 * float(np.mean(p - y_arr))
    slope = a / sd
    return slope, mu - b * sd / a if a else mu


def _held_out_accuracy(rows: list[tuple[str, float, int]]) -> float:
    import numpy as np

    right = 0
    for photo in {r[0] for r in rows}:
        train = [r for r in rows if r[0] != photo]
        slope, mid = _fit_logistic([r[1] for r in train], [r[2] for r in train])
        for _, x, y in (r for r in rows if r[0] == photo):
            right += int((1 / (1 + np.exp(-slope * (x - mid))) >= 0.5) == bool(y))
    return right / len(rows)


def _report(kind: str, neg: list[float], pos: list[float], threshold: float = 0.5) -> None:
    import numpy as np

    fp = int(np.sum(np.asarray(neg) >= threshold))
    tp = int(np.sum(np.asarray(pos) >= threshold))
    print(
        f"  {kind}: bare {fp}/{len(neg)} called covered (max {max(neg):.2f}); drawn-on {tp}/{len(pos)} "
        f"detected (min {min(pos):.2f}); AUC {_auc(neg, pos):.3f}"
    )


def reliability(quick: bool) -> None:
    import numpy as np
    from face_datasets import group_photos, labelled_photos
    from PIL import Image
    from ppe_scenes import GLOVE_COLOURS, HAT_COLOURS, MASK_COLOURS, add_gloves, add_hard_hat, add_mask, masks_on
    from recognito_inference import ppe
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.pose import detect_people

    shots = [(p.name, p.rgb) for p in [*labelled_photos(), *group_photos()]]
    expected_people = {"sample4.jpg": 4, "sample5.jpg": 5, "sample6.jpg": 4}

    def parts_of(rgb: np.ndarray) -> list[dict]:
        height, width = rgb.shape[:2]
        return [ppe.body_parts_in_view(p, width, height) for p in detect_people(rgb)]

    # People and faces.
    found = total = extra = counted = 0
    for name, rgb in shots:
        faces = detect_faces(rgb)
        people = parts_of(rgb)
        centres = [(p[ppe.FACE].box[:2] + p[ppe.FACE].box[2:]) / 2 for p in people if ppe.FACE in p]
        hit = [any(f.box[0] <= c[0] <= f.box[2] and f.box[1] <= c[1] <= f.box[3] for c in centres) for f in faces]
        found, total = found + sum(hit), total + len(faces)
        extra += max(0, len(people) - sum(hit))
        counted += len(people)
        if name in expected_people and len(people) != expected_people[name]:
            print(f"  {name}: {len(people)} people found, {expected_people[name]} there")
    print(f"people: {found}/{total} CenterFace faces inside a person's FACE part", end="; ")
    print(f"{counted} people found, {extra} without such a face")

    # Covers: the raw measure on bare parts and on parts with equipment drawn on.
    def measures(rgb: np.ndarray) -> dict[str, list[float]]:
        image = Image.fromarray(rgb)
        out: dict[str, list[float]] = {"face": [], "head": [], "hand": [], "hand_final": []}
        for parts in parts_of(rgb):
            if ppe.FACE in parts:
                face = parts[ppe.FACE]
                on_face = ppe.mask_probabilities([ppe.face_crop(image, face)])
                lowered = ppe.mask_probabilities([ppe.lowered_face_crop(image, face)])
                out["face"] += list(np.maximum(on_face, lowered))
                out["head"] += [float(np.log(ppe.head_cover_scores([ppe.head_crop(image, parts[ppe.HEAD])])[0]))]
            skin = ppe.skin_model(rgb, parts[ppe.FACE]) if ppe.FACE in parts else None
            for name in (ppe.LEFT_HAND, ppe.RIGHT_HAND):
                if name in parts:
                    share = ppe.skin_share(rgb, parts[name].box, skin)
                    seen = min(1.0, parts[name].score / ppe.WRIST_SEEN)
                    out["hand"].append(share if seen == 1.0 else -seen)  # < 0: wrist barely seen
                    out["hand_final"].append(ppe.hand_cover_probability(share) * seen)
        return out

    bare = {name: measures(rgb) for name, rgb in shots}
    mask_colours = list(MASK_COLOURS)[:2] if quick else list(MASK_COLOURS)
    hat_colours = list(HAT_COLOURS)[:2] if quick else list(HAT_COLOURS)
    glove_colours = list(GLOVE_COLOURS)[:2] if quick else list(GLOVE_COLOURS)
    masked = {(n, c): measures(add_mask(rgb, c)[0])["face"] for n, rgb in shots for c in mask_colours}
    masked.update({(n, "lowered"): measures(masks_on(rgb, "blue", lowered=True)[0])["face"] for n, rgb in shots})
    hatted = {(n, c): measures(add_hard_hat(rgb, c)[0])["head"] for n, rgb in shots for c in hat_colours}
    gloved = {(n, c): measures(add_gloves(rgb, c)[0]) for n, rgb in shots for c in glove_colours}

    print("covers (bare parts of the real photographs vs the same parts with the equipment drawn on):")
    neg = [v for m in bare.values() for v in m["face"]]
    _report(
        "FACE_COVER (mask classifier, face crop and lowered crop; masks worn and pulled down)",
        neg,
        [v for vs in masked.values() for v in vs],
    )

    head_rows = [(n, v, 0) for n, m in bare.items() for v in m["head"]]
    head_rows += [(n, v, 1) for (n, _), vs in hatted.items() for v in vs]
    slope, mid = _fit_logistic([r[1] for r in head_rows], [r[2] for r in head_rows])
    neg = [ppe.head_cover_probability(float(np.exp(v))) for _, v, y in head_rows if not y]
    pos = [ppe.head_cover_probability(float(np.exp(v))) for _, v, y in head_rows if y]
    _report("HEAD_COVER (ImageNet head-cover classes, calibrated)", neg, pos)
    print(
        f"    fit on all: slope {slope:.2f} on log(sum), midpoint sum {np.exp(mid):.3f} (in use: "
        f"{ppe.HEAD_SLOPE}, {np.exp(ppe.HEAD_MIDPOINT):.3f}); leave-one-photo-out accuracy "
        f"{_held_out_accuracy(head_rows):.1%} of {len(head_rows)}"
    )

    _report(
        "HAND_COVER as reported (every hand kept, wrist score >= 0.2; confidence x wrist visibility)",
        [v for m in bare.values() for v in m["hand_final"]],
        [v for m in gloved.values() for v in m["hand_final"]],
    )
    hand_rows = [(n, v, 0) for n, m in bare.items() for v in m["hand"] if v >= 0]
    hand_rows += [(n, v, 1) for (n, _), m in gloved.items() for v in m["hand"] if v >= 0]
    slope, mid = _fit_logistic([r[1] for r in hand_rows], [r[2] for r in hand_rows])
    neg = [ppe.hand_cover_probability(v) for _, v, y in hand_rows if not y]
    pos = [ppe.hand_cover_probability(v) for _, v, y in hand_rows if y]
    _report("HAND_COVER, the skin-share measure alone, hands with wrist score >= 0.5", neg, pos)
    print(
        f"    fit on all: slope {slope:.1f}, midpoint share {mid:.3f} (in use: {ppe.HAND_SLOPE}, "
        f"{ppe.HAND_MIDPOINT}); leave-one-photo-out accuracy {_held_out_accuracy(hand_rows):.1%} of {len(hand_rows)}"
    )


def boxes_and_coverage(quick: bool) -> None:
    """Where the reported equipment is and whether it covers: the full pipeline on the photographs
    with each cover painted on (one colour each, plus the masks pulled under the chin and the hats
    pushed back), every reported box against the painted one (best IoU), and CoversBodyPart."""
    import numpy as np
    from face_datasets import group_photos, labelled_photos
    from face_scenes import iou
    from ppe_scenes import gloves_on, hard_hats_on, masks_on
    from recognito_inference import ppe

    shots = [(p.name, p.rgb) for p in [*labelled_photos(), *group_photos()]]
    if quick:
        shots = shots[:6]
    cases = [
        ("FACE_COVER", "mask worn", lambda rgb: masks_on(rgb, "blue"), True),
        ("FACE_COVER", "mask worn (white)", lambda rgb: masks_on(rgb, "white"), True),
        ("FACE_COVER", "mask under the chin", lambda rgb: masks_on(rgb, "blue", lowered=True), False),
        ("HEAD_COVER", "hard hat", lambda rgb: hard_hats_on(rgb, "yellow"), True),
        ("HEAD_COVER", "hard hat pushed back", lambda rgb: hard_hats_on(rgb, "white", raised=0.15), True),
        ("HAND_COVER", "gloves", lambda rgb: gloves_on(rgb, "blue"), True),
    ]
    print("where the reported covers are (best IoU with the painted cover) and CoversBodyPart:")
    for kind, label, paint, expect in cases:
        overlaps, right, painted = [], 0, 0
        for _, rgb in shots:
            image, truth = paint(rgb)
            painted += len(truth)
            for found in ppe.analyze(image):
                for part in found.parts.values():
                    for item in part.equipment:
                        if item.type != kind:
                            continue
                        overlaps.append(float(iou(item.box, np.array(truth)).max()) if truth else 0.0)
                        right += int((item.covers >= 0.5) == expect)
        o = np.asarray(overlaps)
        print(
            f"  {label}: {len(o)} reported of {painted} painted; IoU >= 0.5 for {int((o >= 0.5).sum())}, "
            f"median {np.median(o) if len(o) else 0:.2f}; CoversBodyPart {str(expect).lower()} for {right}/{len(o)}"
        )


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"DetectProtectiveEquipment on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    if "--reliability-only" not in sys.argv:
        latency(quick)
    reliability(quick)
    boxes_and_coverage(quick)


if __name__ == "__main__":
    main()
