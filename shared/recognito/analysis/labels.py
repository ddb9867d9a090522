"""DetectLabels: labels with Parents, Aliases, Categories and Instances, and IMAGE_PROPERTIES.

Three models give the evidence, mapped into one taxonomy (``data/labels_taxonomy.json``, generated
by ``layers/inference/build/labels_taxonomy.py``):

* an ImageNet-1k classifier (EfficientNet-Lite2) over the whole image: a label's classifier
  confidence comes from the probability mass of every class that is evidence for it or for any of
  its descendants ("Cat" gathers tabby, tiger cat, Persian, Siamese, Egyptian Mau), so a parent is
  never less confident than its best child, as in AWS's responses;
* a COCO-80 object detector (NanoDet-m), whose boxes become the labels' ``Instances``. Where the
  classifier knows the label too, the two agree or disagree: agreement lifts the label's best box
  (noisy-or), and a large box the classifier does not believe in is damped, which is what keeps
  scikit-image's cat from also being a dog. On a large image (long side over TILE_ABOVE px) the
  detector also runs on a grid of overlapping tiles of about TILE px (at most 3 x 3), so objects
  too small at 416 px are found;
* MediaPipe's Open Images SSD (24 classes: Book, Mug, Coffee cup, Footwear, Box, Laptop, ...), whose
  boxes are instances too; where both detectors box the same object, the better box is kept.

Two more signals name labels directly, without boxes:

* **Text** comes from DetectText's reader (PP-OCRv4, ``recognito_inference.text``): the confidence of
  the most legible word that DetectText would return by default (word confidence at least its
  default ``MinConfidence`` of 80) and that has at least two letters or digits (a lone character
  is as often a smudge or a pip). Text is a concept, so it has no ``Instances``, as at AWS.
* **Clothing** is also what people wear: the classifier on the torso of each of the largest
  ``Person`` boxes (the box below its top 40 %, where the head is); the probability mass there of
  every class worn on the body (Clothing's kinds but headwear, and neckwear: a worn tie is knotted
  on a shirt) names Clothing. Only Clothing: the classifier tells garments apart poorly on such crops (a suit reads
  as suit, academic gown and lab coat by turns), so no kind of garment comes from them.

A label is returned only when a model said it or a child label implies it: every label has a
"support", the confidence of what named it directly (its own ImageNet classes, a detector's box
of it, the signals above), raised to its best descendant's; a label whose support is under
``MinConfidence`` is not returned, however much probability its descendants add up to ("Vehicle"
needs a "Car" or a "Bicycle" with it). CONCEPTS are the exception: labels AWS returns on their own
(Plant, Outdoors), named by the classifier's probability that the image shows any of their kinds
(its classes exclude one another, so their masses add up), not only by one kind's.

Confidences are mapped to AWS's scale, where the default ``MinConfidence`` of 55 is the bar: a
classifier mass of 0.3 and a detector score of ~0.47 (NanoDet's IoU-aware scores rarely pass 0.9)
land at 55. Labels are sorted by confidence, then name; each appears once, its ancestors as labels
of their own (at least as confident as their best descendant).

``MaxLabels`` (default and upper limit 1000), ``MinConfidence`` (default 55) and
``Settings.GeneralLabels`` apply to GENERAL_LABELS only; ``Features`` defaults to GENERAL_LABELS.
Filters: a label is returned if there is no inclusion filter or it (or one of its aliases) is in
``LabelInclusionFilters`` or one of its categories is in ``LabelCategoryInclusionFilters``, and it
is in neither exclusion filter. Filters apply before ``MaxLabels``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from recognito_inference.boxes import iou, nms
from recognito_inference.classifier import classify
from recognito_inference.object_detector import Detection, detect_objects
from recognito_inference.oid_detector import detect_oid_objects
from recognito_inference.text import read_text

from recognito.analysis import text
from recognito.analysis.image_properties import (
    DEFAULT_MAX_COLORS,
    AnalysisImage,
    analysis_image,
    box_mask,
    dominant_colors,
    image_properties,
)
from recognito.boxes import bounding_box
from recognito.images import limits_for, load_image

LABEL_MODEL_VERSION = "3.0"
DEFAULT_MIN_CONFIDENCE = 55.0
MAX_LABELS = 1000
GENERAL_LABELS = "GENERAL_LABELS"
IMAGE_PROPERTIES = "IMAGE_PROPERTIES"

# Detector score -> confidence: a logistic through (DETECTOR_MID, 50).
DETECTOR_MID = 0.45
DETECTOR_SLOPE = 10.0
DETECTOR_MIN_SCORE = 0.25  # candidates below this cannot reach any useful confidence
# A box covering at least this share of the image is something the classifier sees too: if the
# classifier gives its label under DISBELIEF of mass, the box's confidence is scaled down.
LARGE_BOX = 0.25
DISBELIEF = 0.02
FOREGROUND_SCORE = 0.45  # detections that make the foreground of IMAGE_PROPERTIES
# The Open Images SSD's sigmoid scores: MediaPipe's own default threshold, 0.5, lands at 50.
OID_MID = 0.5
SAME_OBJECT_IOU = 0.5
NMS_IOU = 0.5
# Images with a long side over this also go to the COCO detector as tiles of about TILE px (at
# most MAX_TILES a side) overlapping by TILE_OVERLAP of a tile: at 416 px a 30-px object of a
# 1,600-px photo is 8 px, under its smallest
# stride's reach.
TILE_ABOVE = 1200
TILE = 1024
MAX_TILES = 3
TILE_OVERLAP = 0.2
TILE_EDGE = 2.0  # px: a tile's box this close to a cut edge is part of an object the cut split
# ImageNet has no class for people: its ballplayer, groom and scuba diver cover a sliver of them,
# so the classifier's silence on these labels says nothing.
UNSEEN_BY_CLASSIFIER = frozenset({"Person"})
# Concepts AWS returns without a child label: the summed mass of their kinds' classes names them.
# Not Clothing: the classifier spreads a close face over caps, gowns and uniforms (ImageNet's photos
# of people are filed under what they wear), so the whole image's garment mass says "a person";
# Clothing comes from people's torsos instead (worn_confidence).
CONCEPTS = frozenset({"Outdoors", "Plant"})
# Text: a word DetectText returns by default (its WordFilter's MinConfidence, 80), of at least
# two letters or digits.
TEXT = "Text"
TEXT_MIN_WORD_CONFIDENCE = text.DEFAULT_MIN_CONFIDENCE / 100
TEXT_MIN_CHARACTERS = 2
# Clothing from people: the torsos (the box below its top TORSO_FROM) of the WORN_PEOPLE largest
# Person boxes of at least WORN_MIN_CONFIDENCE and WORN_MIN_SIDE px a side are classified; the mass
# of the classes of WORN's labels and their kinds names CLOTHING, less HEADWEAR's: the crop leaves
# the head out, and the chin and neck of a close face read as caps.
CLOTHING = "Clothing"
WORN = ("Clothing", "Tie")
HEADWEAR = ("Hat", "Helmet", "Balaclava", "Bonnet", "Graduation Cap", "Military Hat", "Pickelhaube", "Shower Cap")
WORN_PEOPLE = 2
WORN_MIN_CONFIDENCE = 50.0
WORN_MIN_SIDE = 48
TORSO_FROM = 0.4

_DATA = Path(__file__).resolve().parent.parent / "data" / "labels_taxonomy.json"


@dataclass(frozen=True)
class Taxonomy:
    names: list[str]
    index: dict[str, int]
    parents: list[list[str]]
    aliases: list[list[str]]
    categories: list[list[str]]
    imagenet_to_labels: np.ndarray  # (n_labels, 1000) 0/1: class is evidence for the label or a descendant
    imagenet_names_label: np.ndarray  # (n_labels, 1000) 0/1: the class names the label (a concept: or a kind of it)
    worn: np.ndarray  # (1000,) 0/1: the class is something worn on the body (WORN's kinds, not HEADWEAR's)
    covered: np.ndarray  # (n_labels,) bool: some ImageNet class is evidence for it
    coco_labels: list[str]
    oid_labels: list[str | None]  # None: the class is not used (background, "Vehicle")


@cache
def taxonomy() -> Taxonomy:
    data = json.loads(_DATA.read_text())
    names = sorted(data["labels"])
    index = {n: i for i, n in enumerate(names)}
    labels = data["labels"]
    matrix = np.zeros((len(names), len(data["imagenet"])), dtype=np.float64)
    direct = np.zeros_like(matrix)
    for j, cls in enumerate(data["imagenet"]):
        for name in cls["labels"]:
            direct[index[name], j] = 1.0
            for n in (name, *labels[name]["parents"]):
                matrix[index[n], j] = 1.0
    for name in CONCEPTS:
        direct[index[name]] = matrix[index[name]]
    return Taxonomy(
        names=names,
        index=index,
        parents=[labels[n]["parents"] for n in names],
        aliases=[labels[n]["aliases"] for n in names],
        categories=[labels[n]["categories"] for n in names],
        imagenet_to_labels=matrix,
        imagenet_names_label=direct,
        worn=matrix[[index[n] for n in WORN]].max(axis=0) * (1.0 - matrix[[index[n] for n in HEADWEAR]].max(axis=0)),
        covered=matrix.any(axis=1) & np.array([n not in UNSEEN_BY_CLASSIFIER for n in names]),
        coco_labels=[c["labels"][0] for c in data["coco"]],
        oid_labels=[c["labels"][0] if c["labels"] else None for c in data["oid"]],
    )


@cache
def imagenet_class_names() -> list[str]:
    """The classifier's 1,000 ImageNet class names, in its output order."""
    return [cls["name"] for cls in json.loads(_DATA.read_text())["imagenet"]]


def classifier_confidence(mass: np.ndarray) -> np.ndarray:
    """Probability mass 0..1 -> 0..100; 0.3 -> 55, 0.6 -> 77, 0.9 -> 95."""
    return 100.0 * np.sqrt(np.clip(mass, 0.0, 1.0))


def detector_confidence(score: float, mid: float = DETECTOR_MID) -> float:
    return float(100.0 / (1.0 + np.exp(-DETECTOR_SLOPE * (score - mid))))


@dataclass(frozen=True)
class Found:
    """One box of a label from either detector, with its confidence on AWS's scale."""

    label: int
    box: np.ndarray
    confidence: float


def detections_found(coco: list[Detection], oid: list[Detection]) -> list[Found]:
    """Both detectors' boxes as labels; where both box the same object as the same label (IoU over
    SAME_OBJECT_IOU), the more confident box stands for it."""
    tax = taxonomy()
    found = [Found(tax.index[tax.coco_labels[d.class_id]], d.box, detector_confidence(d.score)) for d in coco]
    found += [
        Found(tax.index[name], d.box, detector_confidence(d.score, OID_MID))
        for d in oid
        if (name := tax.oid_labels[d.class_id]) is not None
    ]
    found.sort(key=lambda f: -f.confidence)
    kept: list[Found] = []
    for f in found:
        same = [k.box for k in kept if k.label == f.label]
        if not same or iou(f.box, np.array(same)).max() <= SAME_OBJECT_IOU:
            kept.append(f)
    return kept


@dataclass
class _Instance:
    box: np.ndarray  # x1, y1, x2, y2 px
    confidence: float


def _label_confidences(
    probabilities: np.ndarray, detections: list[Found], width: int, height: int, named: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, dict[int, list[_Instance]]]:
    """Each label's confidence, its support (see the module's docstring) and the instances (boxes)
    of the labels the detectors found; ``named``: labels other signals name, with their confidence."""
    tax = taxonomy()
    mass = tax.imagenet_to_labels @ probabilities
    conf = classifier_confidence(mass)
    support = classifier_confidence(tax.imagenet_names_label @ probabilities)
    for name, confidence in named.items():
        i = tax.index[name]
        conf[i] = max(conf[i], confidence)
        support[i] = max(support[i], confidence)
    instances: dict[int, list[_Instance]] = {}
    area = float(width * height)
    for det in detections:
        i, c = det.label, det.confidence
        x1, y1, x2, y2 = (float(v) for v in det.box)
        if tax.covered[i] and (x2 - x1) * (y2 - y1) / area >= LARGE_BOX and mass[i] < DISBELIEF:
            c *= 0.5 + 0.5 * mass[i] / DISBELIEF
        instances.setdefault(i, []).append(_Instance(det.box, c))
    for i, found in instances.items():
        found.sort(key=lambda inst: -inst.confidence)
        best = found[0]
        if tax.covered[i]:
            # The classifier's belief in the label backs the label's best box.
            best.confidence = 100.0 - (100.0 - best.confidence) * (100.0 - conf[i]) / 100.0
        conf[i] = max(conf[i], best.confidence)
        support[i] = max(support[i], best.confidence)
    # Ancestors are at least as confident, and as supported, as their best descendant.
    for i in np.argsort(-conf):
        for p in tax.parents[i]:
            j = tax.index[p]
            conf[j] = max(conf[j], conf[i])
    for i in np.argsort(-support):
        for p in tax.parents[i]:
            j = tax.index[p]
            support[j] = max(support[j], support[i])
    return conf, support, instances


def _filters(settings: dict[str, Any]) -> tuple[set[str], set[str], set[str], set[str]]:
    general = settings.get("GeneralLabels") or {}

    def values(key: str) -> set[str]:
        return {v.casefold() for v in general.get(key) or []}

    return (
        values("LabelInclusionFilters"),
        values("LabelExclusionFilters"),
        values("LabelCategoryInclusionFilters"),
        values("LabelCategoryExclusionFilters"),
    )


def _passes(i: int, filters: tuple[set[str], set[str], set[str], set[str]]) -> bool:
    tax = taxonomy()
    include_labels, exclude_labels, include_categories, exclude_categories = filters
    names = {tax.names[i].casefold(), *(a.casefold() for a in tax.aliases[i])}
    categories = {c.casefold() for c in tax.categories[i]}
    if (include_labels or include_categories) and not (names & include_labels or categories & include_categories):
        return False
    return not (names & exclude_labels or categories & exclude_categories)


def detect_objects_tiled(rgb: np.ndarray) -> list[Detection]:
    """COCO objects of the whole image and, for a large one, of its grid of overlapping tiles, merged
    per class by non-maximum suppression. A tile's box that touches an edge where the tile cuts the
    image is dropped: it is part of an object that the other tile or the whole image sees whole."""
    found = detect_objects(rgb, min_score=DETECTOR_MIN_SCORE)
    height, width = rgb.shape[:2]
    if max(width, height) <= TILE_ABOVE:
        return found
    across, down = (min(MAX_TILES, max(1, -(-side // TILE))) for side in (width, height))
    tile_w = min(width, int(width * (1 + TILE_OVERLAP) / across))
    tile_h = min(height, int(height * (1 + TILE_OVERLAP) / down))
    for top in np.linspace(0, height - tile_h, down).astype(int):
        for left in np.linspace(0, width - tile_w, across).astype(int):
            # The tile's sides that cut the image (not the image's own border): x1, y1, x2, y2.
            cuts = np.array([left > 0, top > 0, left + tile_w < width, top + tile_h < height])
            for d in detect_objects(rgb[top : top + tile_h, left : left + tile_w], min_score=DETECTOR_MIN_SCORE):
                x1, y1, x2, y2 = d.box
                near = np.array([x1 <= TILE_EDGE, y1 <= TILE_EDGE, x2 >= tile_w - TILE_EDGE, y2 >= tile_h - TILE_EDGE])
                if not (near & cuts).any():
                    found.append(Detection(d.box + np.float32([left, top, left, top]), d.score, d.class_id))
    merged: list[Detection] = []
    for c in {d.class_id for d in found}:
        same = [d for d in found if d.class_id == c]
        boxes = np.array([d.box for d in same])
        merged += [same[k] for k in nms(boxes, np.array([d.score for d in same]), NMS_IOU)]
    merged.sort(key=lambda d: -d.score)
    return merged


def found_objects(rgb: np.ndarray) -> list[Found]:
    """Both detectors' labelled boxes for an image (the COCO detector tiled on large images)."""
    return detections_found(detect_objects_tiled(rgb), detect_oid_objects(rgb, min_score=DETECTOR_MIN_SCORE))


def text_confidence(rgb: np.ndarray) -> float:
    """Text's confidence (0..100): the most legible word that DetectText would return by default and
    that has at least TEXT_MIN_CHARACTERS letters or digits; 0 when there is none."""
    words = [word for line in read_text(rgb) for word in line.words]
    legible = [
        w.confidence
        for w in words
        if w.confidence >= TEXT_MIN_WORD_CONFIDENCE and sum(ch.isalnum() for ch in w.text) >= TEXT_MIN_CHARACTERS
    ]
    return 100.0 * max(legible, default=0.0)


def worn_confidence(rgb: np.ndarray, detections: list[Found]) -> float:
    """Clothing's confidence (0..100) from what the largest people wear: the classifier's mass of
    worn classes on each one's torso, the best of them."""
    tax = taxonomy()
    person = tax.index["Person"]
    boxes = [
        f.box
        for f in detections
        if f.label == person
        and f.confidence >= WORN_MIN_CONFIDENCE
        and min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= WORN_MIN_SIDE
    ]
    boxes.sort(key=lambda b: -float((b[2] - b[0]) * (b[3] - b[1])))
    best = 0.0
    for x1, y1, x2, y2 in (np.round(b).astype(int) for b in boxes[:WORN_PEOPLE]):
        torso = rgb[max(0, y1 + int(TORSO_FROM * (y2 - y1))) : max(0, y2), max(0, x1) : max(0, x2)]
        if min(torso.shape[:2]) >= WORN_MIN_SIDE // 2:
            best = max(best, float(tax.worn @ classify(torso)))
    return float(classifier_confidence(np.array(best)))


def general_labels(
    image: AnalysisImage | None,
    rgb: np.ndarray,
    detections: list[Found],
    request: dict[str, Any],
    with_colors: bool,
    max_colors: int,
    with_text: bool = False,
) -> list[dict[str, Any]]:
    """The response's ``Labels`` for a decoded image and the detectors' findings; ``with_text``
    reads the image's text for the Text label (DetectText's reader: the slowest part)."""
    tax = taxonomy()
    height, width = rgb.shape[:2]
    filters = _filters(request.get("Settings") or {})
    named = {CLOTHING: worn_confidence(rgb, detections)} if _passes(tax.index[CLOTHING], filters) else {}
    if with_text and _passes(tax.index[TEXT], filters):
        named[TEXT] = text_confidence(rgb)
    conf, support, instances = _label_confidences(classify(rgb), detections, width, height, named)
    min_confidence = request.get("MinConfidence")
    min_confidence = DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
    max_labels = request.get("MaxLabels")
    max_labels = MAX_LABELS if max_labels is None else min(int(max_labels), MAX_LABELS)
    order = sorted(range(len(tax.names)), key=lambda i: (-conf[i], tax.names[i]))
    labels = []
    for i in order:
        if len(labels) >= max_labels or conf[i] < min_confidence:
            break
        if support[i] < min_confidence or not _passes(i, filters):
            continue
        label_instances = []
        for inst in instances.get(i, []):
            if inst.confidence < min_confidence:
                continue
            entry: dict[str, Any] = {
                "BoundingBox": bounding_box(inst.box, width, height),
                "Confidence": float(inst.confidence),
            }
            if with_colors and image is not None:
                entry["DominantColors"] = dominant_colors(image, box_mask(image, inst.box), max_colors)
            label_instances.append(entry)
        labels.append(
            {
                "Name": tax.names[i],
                "Confidence": float(conf[i]),
                "Instances": label_instances,
                "Parents": [{"Name": p} for p in tax.parents[i]],
                "Aliases": [{"Name": a} for a in tax.aliases[i]],
                "Categories": [{"Name": c} for c in tax.categories[i]],
            }
        )
    return labels


def detect_labels(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectLabels response for a validated request."""
    image = load_image(request["Image"], limits_for("DetectLabels"))
    features = set(request.get("Features") or [GENERAL_LABELS])
    settings = request.get("Settings") or {}
    max_colors = (settings.get("ImageProperties") or {}).get("MaxDominantColors")
    max_colors = DEFAULT_MAX_COLORS if max_colors is None else int(max_colors)
    want_properties = IMAGE_PROPERTIES in features
    coco = detect_objects_tiled(image.rgb)
    detections = detections_found(coco, detect_oid_objects(image.rgb, min_score=DETECTOR_MIN_SCORE))
    analysis = analysis_image(image.rgb) if want_properties else None
    result: dict[str, Any] = {"Labels": []}
    if GENERAL_LABELS in features:
        result["Labels"] = general_labels(
            analysis, image.rgb, detections, request, want_properties, max_colors, with_text=True
        )
    result["LabelModelVersion"] = LABEL_MODEL_VERSION
    if analysis is not None:
        boxes = [d.box for d in coco if d.score >= FOREGROUND_SCORE]
        result["ImageProperties"] = image_properties(analysis, boxes, max_colors)
    if image.orientation_correction is not None:
        result["OrientationCorrection"] = image.orientation_correction
    return result
