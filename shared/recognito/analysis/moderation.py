"""DetectModerationLabels: unsafe content in an image, as labels of Rekognition's taxonomy.

The taxonomy (version 7: ten top-level categories such as "Explicit" and "Violence", their second
and third levels) is data, ``recognito/data/moderation_taxonomy.json``. Each label there names the
model outputs ("signals") that can see it; its confidence is the highest of their scores, a parent
is at least as confident as its most confident child (so it always comes with the child that
implies it), and a label no model here can see has none and is never reported. What is seen:

* "Explicit" (level 1): the higher of Yahoo's open_nsfw score and nsfwjs' Porn + Hentai. Neither
  model tells explicit nudity from sexual activity, so no level-2 or level-3 label of "Explicit" is
  claimed; nsfwjs' "Sexy" class (swimwear, underwear and partial nudity alike) matches no single v7
  label and is not reported.
* "Weapons" (under "Violence"), "Alcoholic Beverages" (under "Alcohol"), "Pills" (under "Products",
  "Drugs & Tobacco") and "Drugs & Tobacco Paraphernalia & Use": the summed probability of the
  ImageNet classes that name those things (assault rifle, revolver, rifle, cannon; beer bottle, wine
  bottle, red wine, beer glass, whiskey jug; pill bottle; syringe) from DetectLabels' EfficientNet
  classifier, on the image's centre square and, for a wide or tall image, the squares at its ends
  (the highest). This is a heuristic, not a moderation model: the
  probability is the classifier's, not calibrated for moderation (bench/moderation_classes.py
  measures how often it fires on photographs without such things), an object small in the frame is
  missed, and ImageNet has no class for knives, cigarettes, drug use,
  drinking or graphic violence, which are therefore never reported.

ContentTypes "Illustrated" comes from nsfwjs' Drawing + Hentai (drawn images, anime included).

As Rekognition documents: labels with ``Confidence`` at least ``MinConfidence`` (default 50) are
returned, parents before children, each with ``Name``, ``ParentName`` ("" at the top level),
``TaxonomyLevel`` and ``Confidence``; ``ModerationModelVersion`` names the taxonomy version;
``ContentTypes`` lists what kind of image it is (animated, illustrated) where a model can tell,
and is empty otherwise.

``ProjectVersion`` names a Custom Moderation adapter (a version of a CONTENT_MODERATION project):
its corrections of the base model's confidences are applied and the response names it in
``ProjectVersion``. Adapters belong to custom labels, which builds on this module, so the operation's
entry point is ``recognito.custom_labels.moderation``: it finds the adapter and hands it in here as
``find_adapter``.

Not available: ``HumanLoopConfig`` (human review through Amazon Augmented AI) answers
InvalidParameterException.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from recognito_inference.classifier import classify
from recognito_inference.moderation import moderation_scores

from recognito.analysis.labels import imagenet_class_names
from recognito.analysis.moderation_taxonomy import taxonomy
from recognito.errors import InvalidParameterException
from recognito.images import limits_for, load_image

DEFAULT_MIN_CONFIDENCE = 50.0
SIDE_SQUARES_ABOVE = 1.3


def detectable_labels() -> list[dict[str, Any]]:
    """The taxonomy's labels that some model here can report: those with signals of their own and
    the ancestors of those, parents before their children (the file's order)."""
    labels = taxonomy()["labels"]
    parent = {label["Name"]: label["ParentName"] for label in labels}
    seen: set[str] = set()
    for label in labels:
        name = label["Name"] if label["signals"] else ""
        while name:
            seen.add(name)
            name = parent[name]
    return [label for label in labels if label["Name"] in seen]


def squares(rgb: np.ndarray) -> list[np.ndarray]:
    """What the classifier looks at: the image's centre square and, for an image more than
    SIDE_SQUARES_ABOVE times wider than tall (or taller than wide), also the squares at its two
    ends, where a centre square misses an object at a landscape photo's side."""
    height, width = rgb.shape[:2]
    side = min(width, height)
    if max(width, height) <= SIDE_SQUARES_ABOVE * side:
        return [rgb]
    if width > height:
        return [rgb, rgb[:, :side], rgb[:, width - side :]]
    return [rgb, rgb[:side], rgb[height - side :]]


def class_scores(probabilities: np.ndarray) -> dict[str, float]:
    """``imagenet.<class>`` signals from the classifier's probabilities (classes sharing a name add up)."""
    scores: dict[str, float] = {}
    for name, p in zip(imagenet_class_names(), probabilities, strict=True):
        scores[f"imagenet.{name}"] = scores.get(f"imagenet.{name}", 0.0) + float(p)
    return scores


def _scores(rgb: np.ndarray) -> list[dict[str, float]]:
    """Every signal's score, once per square the classifier looks at: the unsafe-content models'
    (of the whole image, the same in each) and the classifier's ``imagenet.<class>``."""
    unsafe = moderation_scores(rgb)
    return [{**unsafe, **class_scores(classify(square))} for square in squares(rgb)]


def base_confidences(rgb: np.ndarray) -> dict[str, float]:
    """The base model's confidence (0..100) of each detectable label in an image."""
    return label_confidences(_scores(rgb))


def label_confidences(scores: list[dict[str, float]]) -> dict[str, float]:
    """Each detectable label's confidence: its own signals' in the square where they are highest,
    raised to its best child's."""
    labels = detectable_labels()
    confidence = {
        label["Name"]: max(_confidence(s, label["signals"]) for s in scores) if label["signals"] else 0.0
        for label in labels
    }
    for label in reversed(labels):  # children before parents
        if label["ParentName"]:
            parent = label["ParentName"]
            confidence[parent] = max(confidence[parent], confidence[label["Name"]])
    return confidence


# An adapter: the image's pixels and the base model's confidences in, the corrected confidences out.
Adapt = Callable[[np.ndarray, dict[str, float]], dict[str, float]]


def detect_moderation_labels(
    request: dict[str, Any], find_adapter: Callable[[str], Adapt] | None = None
) -> dict[str, Any]:
    """The DetectModerationLabels response for a validated request; ``find_adapter`` turns its
    ``ProjectVersion`` into the adapter to apply (raising the version's errors)."""
    if request.get("HumanLoopConfig") is not None:
        raise InvalidParameterException(
            "HumanLoopConfig is not supported: recognito has no human review (Amazon Augmented AI)"
        )
    min_confidence = request.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)
    image = load_image(request["Image"], limits_for("DetectModerationLabels"))
    adapt = None
    if request.get("ProjectVersion") is not None:  # after the image, as DetectCustomLabels checks
        if find_adapter is None:
            raise InvalidParameterException("ProjectVersion: this caller applies no moderation adapter")
        adapt = find_adapter(request["ProjectVersion"])
    scores = _scores(image.rgb)
    data = taxonomy()
    confidences = label_confidences(scores)
    if adapt is not None:
        confidences = adapt(image.rgb, confidences)
    labels = []
    for label in data["labels"]:  # parents before their children; only the labels a model sees
        confidence = confidences.get(label["Name"], 0.0)
        if label["Name"] in confidences and confidence >= min_confidence:
            labels.append(
                {
                    "Confidence": confidence,
                    "Name": label["Name"],
                    "ParentName": label["ParentName"],
                    "TaxonomyLevel": label["TaxonomyLevel"],
                }
            )
    content_types = []
    for name, signals in data["content_type_signals"].items():
        confidence = _confidence(scores[0], signals)
        if confidence >= min_confidence:
            content_types.append({"Confidence": confidence, "Name": name})
    response = {
        "ModerationLabels": labels,
        "ModerationModelVersion": data["model_version"],
        "ContentTypes": content_types,
    }
    if adapt is not None:
        response["ProjectVersion"] = request["ProjectVersion"]
    return response


def _confidence(scores: dict[str, float], signals: list[str]) -> float:
    """The highest of the signals' scores, as a percentage; "a+b" sums two classes of one model."""
    return min(100.0, 100.0 * max(sum(scores[part] for part in signal.split("+")) for signal in signals))
