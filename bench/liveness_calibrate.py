"""Fit Face Liveness' Confidence (recognito.liveness.decision) on live and not-live selfie videos.

    .venv/bin/python bench/liveness_calibrate.py            # measure (cached) and fit
    .venv/bin/python bench/liveness_calibrate.py --write    # ... and write data/liveness_calibration.json

The videos (tests/liveness_clips.py says what is real in each and what is made):
- live: carphone frames 60-119 (the tests use 0-59), each under its own drawn challenge, lit with a
  screen-light strength from 0.08 to 0.35; and four 20-frame windows of them (calmer stretches);
- photo: a shared face photograph (../shared/datasets/faces, one per person), zoomed and lit: a
  photo held up to the screen;
- still: the same photographs sent as a still video;
- replay: the carphone frames zoomed but unlit (a recording injected), or lit in another order.
Each goes through the real path: WebM (VP8) encoded, decoded, measured. Features are cached in
bench/.liveness_features.json; the fit is a logistic regression on the standardized features with
non-negative weights (a feature that says "live" may not be turned into evidence against it) and
a light L2 penalty (0.01: the examples separate fully, so without it the weights grow without end),
then leave-one-out rates at the chosen threshold.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "shared"), str(ROOT / "layers" / "inference")]

import liveness_clips as clips  # noqa: E402
from PIL import Image  # noqa: E402
from recognito.liveness import challenge as challenges  # noqa: E402
from recognito.liveness import decision, video  # noqa: E402
from recognito_inference.face_detector import detect_faces  # noqa: E402

FACES = ROOT.parent / "shared" / "datasets" / "faces"
CACHE = Path(__file__).with_name(".liveness_features.json")
OUT = ROOT / "shared" / "recognito" / "data" / "liveness_calibration.json"
USED = ("colour", "deformation", "antispoof")
REQUIRED = {"face": 0.8, "oval": 0.3, "approach": 1.08}
FLOOR = 5.0
THRESHOLD = 50.0
WINDOWS = (60, 75, 90, 100)  # first carphone frame of each calmer live window


def examples(live: int, photos: int, seed: int = 7) -> list[tuple[str, int, callable]]:
    rng = random.Random(seed)
    carphone = clips.carphone_frames(60, 120)
    carphone_box = _box(carphone[0])
    people = sorted(p for p in FACES.iterdir() if p.is_dir())
    rng.shuffle(people)
    stills = []
    for person in people[:photos]:
        image = np.asarray(
            Image.open(sorted(p for p in person.iterdir() if p.suffix in (".jpg", ".png"))[0]).convert("RGB")
        )
        stills.append((person.name, image, _box(image)))
    made = []
    for k in range(live):
        strength = 0.08 + 0.27 * k / max(live - 1, 1)
        made.append(
            (
                f"live-{k}",
                1,
                lambda c, p, o, s=strength: clips.render(clips.ping_pong(carphone), carphone_box, o, p, light=s),
            )
        )
    # Calmer stretches of the same clip: 20-frame windows, less talking, so less deformation.
    for k, first in enumerate(WINDOWS):
        window = carphone[first - 60 : first - 40]
        strength = 0.1 + 0.2 * k / max(len(WINDOWS) - 1, 1)
        made.append(
            (
                f"live-window{first}",
                1,
                lambda c, p, o, w=window, s=strength: clips.render(clips.ping_pong(w), _box(w[0]), o, p, light=s),
            )
        )
    for k in range(max(2, live // 2)):
        made.append(
            (
                f"replay-unlit-{k}",
                0,
                lambda c, p, o: clips.render(clips.ping_pong(carphone), carphone_box, o, p, light=0),
            )
        )
        made.append(
            (
                f"replay-reordered-{k}",
                0,
                lambda c, p, o: clips.render(clips.ping_pong(carphone), carphone_box, o, p, colours=_reordered(p)),
            )
        )
    for name, image, box in stills:
        made.append((f"photo-{name}", 0, lambda c, p, o, i=image, b=box: clips.render(clips.still(i), b, o, p)))
        made.append(
            (
                f"still-{name}",
                0,
                lambda c, p, o, i=image, b=box: clips.render(clips.still(i), b, o, p, zoom=False, light=0),
            )
        )
    return made


def _box(image: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in max(detect_faces(image), key=lambda f: f.width).box)


def _reordered(plan: clips.Timeline) -> list:
    """Another session's colours: the same times, the colours rotated by one."""
    colours = [c for c, _ in plan.colours]
    rotated = colours[:1] + colours[2:] + colours[1:2]
    return [(c, t) for c, (_, t) in zip(rotated, plan.colours, strict=True)]


def measure_all(made: list, cached: dict) -> dict:
    for name, label, make in made:
        if name in cached:
            continue
        challenge = challenges.draw(challenges.LIGHT, "2.0.0", *clips.SIZE)
        oval = challenge.oval
        plan = clips.timeline(list(challenge.colors), [d + f for d, f in challenge.durations])
        frames = video.decode(
            clips.webm(make(challenge, plan, (oval.center_x, oval.center_y, oval.width, oval.height)))
        )
        faces = [decision._one_face(rgb) for rgb in frames.rgb]
        features = decision.measure(frames, faces, challenge, plan.colours)
        cached[name] = {"label": label, "features": features}
        CACHE.write_text(json.dumps(cached, indent=1))
        print(name, label, {k: round(v, 3) for k, v in features.items()}, flush=True)
    return cached


def fit(rows: list[dict], l2: float = 0.01, steps: int = 4000) -> dict:
    x = np.array([[r["features"][k] for k in USED] for r in rows])
    y = np.array([r["label"] for r in rows], dtype=np.float64)
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-9)
    z = (x - mean) / scale
    w, b = np.zeros(len(USED)), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w = np.maximum(w - 0.1 * (z.T @ (p - y) / len(y) + l2 * w), 0.0)
        b -= 0.1 * float((p - y).mean())
    return {
        "features": list(USED),
        "weights": dict(zip(USED, w.round(4).tolist(), strict=True)),
        "intercept": round(b, 4),
        "mean": dict(zip(USED, mean.round(5).tolist(), strict=True)),
        "scale": dict(zip(USED, scale.round(5).tolist(), strict=True)),
        "required": REQUIRED,
        "floor": FLOOR,
        "threshold": THRESHOLD,
    }


def confidence(model: dict, features: dict) -> float:
    decision.calibration.cache_clear()
    z = model["intercept"] + sum(
        model["weights"][k] * (features[k] - model["mean"][k]) / model["scale"][k] for k in model["weights"]
    )
    value = 100 / (1 + np.exp(-z))
    if any(features[k] < v for k, v in model["required"].items()):
        value = min(value, model["floor"])
    return float(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", type=int, default=8)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    cached = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    rows = list(measure_all(examples(args.live, args.photos), cached).values())
    model = fit(rows)
    kinds: dict[str, list[float]] = {}
    for name, row in cached.items():
        kinds.setdefault(name.rsplit("-", 1)[0].split("-")[0], []).append(confidence(model, row["features"]))
    # Leave-one-out: each video scored by a model fitted without it.
    names = list(cached)
    errors = {"false accepts": 0, "false rejects": 0}
    for name in names:
        held = fit([cached[n] for n in names if n != name])
        value = confidence(held, cached[name]["features"])
        if cached[name]["label"] == 1 and value < THRESHOLD:
            errors["false rejects"] += 1
        if cached[name]["label"] == 0 and value >= THRESHOLD:
            errors["false accepts"] += 1
    print(json.dumps(model, indent=1))
    for kind, values in kinds.items():
        low, mid, high = min(values), float(np.median(values)), max(values)
        print(f"{kind:8s} n={len(values):2d} Confidence min {low:6.2f} median {mid:6.2f} max {high:6.2f}")
    live = sum(r["label"] for r in rows)
    rejected, accepted, fakes = errors["false rejects"], errors["false accepts"], len(rows) - live
    print(f"leave-one-out at {THRESHOLD}: {rejected}/{live} live rejected, {accepted}/{fakes} not live accepted")
    if args.write:
        OUT.write_text(json.dumps(model, indent=1) + "\n")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
