"""The steps of ``statemachines/custom_labels_training.asl.json``, one worker entry point.

validate -> extract (a Map over batches of images) -> train -> evaluate -> record; any failure goes
to ``fail``, which ends the version TRAINING_FAILED with the failure's message. Steps hand work to
each other through S3, under the version's OutputConfig prefix
(``s3://<S3Bucket>/<S3KeyPrefix><project>/<version>/``): ``training/plan.json`` (the images and their
truth), ``training/features-<split>-<batch>.npz`` (backbone features), ``training/seconds-*.json``
(each step's own run time: BillableTrainingTimeInSeconds is their sum), ``model/model.npz`` (the
model artifact DetectCustomLabels loads) and ``EvaluationSummary-<project>-<version>.json``.

A CONTENT_MODERATION project's version is an adapter (``adapter``): its images also get the base
moderation model's confidences (``training/base-<split>-<batch>.npz``) and its artifact is the
adapter DetectModerationLabels applies.

Each step stays within one Lambda invocation's limits: a batch of ``BATCH_IMAGES`` images is
decoded and embedded in well under 900 s, and the heads train on features (a few hundred MB at most
for the largest datasets this flow is meant for), not on images.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recognito.custom_labels.manifests import ManifestEntry, split_s3_uri
from recognito.errors import InvalidParameterException

MODERATION = "moderation"  # the plan's kind for an adapter (beside "classification" and "detection")
BATCH_IMAGES = 64  # ~10 s of backbone a batch on one core; the Map fans batches out
MIN_IMAGES_PER_LABEL = 2
TEST_SHARE = 0.2  # the automatic split when the version has no TEST dataset


class TrainingFailure(Exception):
    """A dataset that cannot be trained on: the version ends TRAINING_FAILED with this message."""


# ---- S3 ------------------------------------------------------------------------------------------


def s3_client() -> Any:
    from recognito.aws import client

    return client("s3")


def _put(bucket: str, key: str, body: bytes) -> None:
    s3_client().put_object(Bucket=bucket, Key=key, Body=body)


def _get(bucket: str, key: str) -> bytes:
    return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()


def _location(version_arn: str) -> tuple[str, str, Any]:
    """The version's bucket, its key prefix for everything training writes, and its record."""
    from recognito.custom_labels import versions
    from recognito.custom_labels.projects import VERSION_ITEM

    record = versions.get(version_arn)
    output = record.output_config or {}
    prefix = f"{output.get('S3KeyPrefix') or ''}{record.project}/{record.item.removeprefix(VERSION_ITEM)}/"
    return output["S3Bucket"], prefix, record


def _timed(step: str) -> Callable[[Callable[[dict], dict]], Callable[[dict], dict]]:
    """Writes the step's run time under the version's prefix (the billable training time's parts)."""

    def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        def run(event: dict) -> dict:
            started = time.monotonic()
            result = fn(event)
            bucket, prefix, _ = _location(event["ProjectVersionArn"])
            name = f"{step}-{event['Split']}-{event['Index']}" if "Index" in event else step
            seconds = {"Seconds": time.monotonic() - started}
            _put(bucket, f"{prefix}training/seconds-{name}.json", json.dumps(seconds).encode())
            return result

        return run

    return wrap


# ---- validate ------------------------------------------------------------------------------------


def _truth(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "SourceRef": entry.source_ref,
        "Labels": list(entry.labels),
        "Boxes": [[b.label, b.left, b.top, b.width, b.height] for b in entry.boxes],
    }


def _groups(entry: ManifestEntry) -> tuple[str, ...]:
    return entry.labels or ("",)  # images annotated safe (adapters) split as one more group


def _automatic_split(entries: list[ManifestEntry]) -> tuple[list[ManifestEntry], list[ManifestEntry]]:
    """A stable 80/20 split by the hash of each image's source-ref, taking a fifth of each label's
    images (at least one) for testing."""
    ranked = sorted(entries, key=lambda e: hashlib.sha256(e.source_ref.encode()).hexdigest())
    test: set[str] = set()
    for label in sorted({label for e in entries for label in _groups(e)}):
        mine = [e for e in ranked if label in _groups(e)]
        wanted = max(1, round(len(mine) * TEST_SHARE))
        already = sum(e.source_ref in test for e in mine)
        for e in mine:
            if already >= wanted:
                break
            if e.source_ref not in test:
                test.add(e.source_ref)
                already += 1
    return [e for e in entries if e.source_ref not in test], [e for e in entries if e.source_ref in test]


def _moderation_plan(train: list[ManifestEntry], test: list[ManifestEntry] | None) -> list[str]:
    """An adapter's checks: Custom Moderation lines only, naming labels of the moderation taxonomy."""
    from recognito.custom_labels.training.adapter import unknown_labels

    everything = train + [e for e in test or [] if not e.has_errors and e.labeled]  # what trains and tests
    if not train or not all(e.moderation for e in everything):
        raise TrainingFailure(
            "A Content Moderation adapter trains on Custom Moderation manifests: every image needs "
            "content-moderation-groundtruth (its ModerationLabels, none for a safe image)."
        )
    unknown = unknown_labels({label for e in everything for label in e.labels})
    if unknown:
        more = " ..." if len(unknown) > 10 else ""
        raise TrainingFailure(f"Labels not in the content moderation taxonomy: {', '.join(unknown[:10])}{more}")
    return sorted({label for e in train for label in e.labels})


def plan(
    train: list[ManifestEntry], test: list[ManifestEntry] | None, feature: str = "CUSTOM_LABELS"
) -> dict[str, Any]:
    """Which images train and test, the model's kind and labels; ``TrainingFailure`` when the data
    cannot make a model (too few images, a single label for a classifier, no labels). ``feature``
    CONTENT_MODERATION plans an adapter (``training.adapter``)."""
    train = [e for e in train if not e.has_errors and e.labeled]
    if feature == "CONTENT_MODERATION":
        kind, labels = MODERATION, _moderation_plan(train, test)
    elif any(e.moderation for e in train):
        raise TrainingFailure("Custom Moderation manifests train Content Moderation adapters, not Custom Labels models")
    else:
        kind = "detection" if any(e.boxes for e in train) else "classification"
        labels = sorted({label for e in train for label in e.labels})
    if not labels and kind != MODERATION:
        raise TrainingFailure("The training dataset has no labeled images.")
    if kind == "classification" and len(labels) < 2:
        raise TrainingFailure(
            f"The training dataset has only one label ({labels[0]}): a classifier needs at least two."
        )
    counts = {label: sum(label in e.labels for e in train) for label in labels}
    few = sorted(label for label, count in counts.items() if count < MIN_IMAGES_PER_LABEL)
    if few:
        raise TrainingFailure(
            f"Too few training images: each label needs at least {MIN_IMAGES_PER_LABEL}; "
            + ", ".join(few)
            + " has fewer."
        )
    if test is None:  # the training images, counted above, split 80/20 per label
        train, test = _automatic_split(train)
    else:
        test = [e for e in test if not e.has_errors and e.labeled]
    if not test:
        raise TrainingFailure("The testing dataset has no labeled images.")
    return {"Kind": kind, "Labels": labels, "Train": [_truth(e) for e in train], "Test": [_truth(e) for e in test]}


def _batches(images: dict[str, list]) -> list[dict[str, Any]]:
    return [
        {"Split": split, "Index": index, "First": first, "End": min(first + BATCH_IMAGES, len(items))}
        for split, items in images.items()
        for index, first in enumerate(range(0, len(items), BATCH_IMAGES))
    ]


@_timed("validate")
def validate(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.custom_labels import datasets

    bucket, prefix, record = _location(event["ProjectVersionArn"])
    train = list(datasets.entries(record.train_dataset_arn))
    test = list(datasets.entries(record.test_dataset_arn)) if record.test_dataset_arn else None
    planned = plan(train, test, record.feature)
    if planned["Kind"] == MODERATION:
        from recognito.custom_labels.training.adapter import DEFAULT_THRESHOLD

        config = (record.feature_config or {}).get("ContentModeration") or {}
        planned["Threshold"] = float(config.get("ConfidenceThreshold", DEFAULT_THRESHOLD))
    _put(bucket, f"{prefix}training/plan.json", json.dumps(planned).encode())
    batches = _batches({"Train": planned["Train"], "Test": planned["Test"]})
    return {"Batches": [{**b, "ProjectVersionArn": event["ProjectVersionArn"]} for b in batches]}


# ---- extract -------------------------------------------------------------------------------------


def read_images(refs: list[str]) -> list[np.ndarray]:
    """The images of ``s3://`` refs, decoded upright; ``TrainingFailure`` naming any unreadable one."""
    from recognito.images import DEFAULT_LIMITS, decode_image

    images, unreadable = [], []
    for ref in refs:
        where = split_s3_uri(ref)
        try:
            if where is None:
                raise InvalidParameterException("not an S3 URI")
            images.append(decode_image(_get(*where), DEFAULT_LIMITS).rgb)
        except Exception as error:  # a missing object, a bad image: the user's data, never a crash
            unreadable.append(f"{ref} ({getattr(error, 'message', None) or type(error).__name__})")
    if unreadable:
        raise TrainingFailure(
            f"Unreadable images: {'; '.join(unreadable[:5])}" + (" ..." if len(unreadable) > 5 else "")
        )
    return images


def features_bytes(embedded: Any, with_maps: bool) -> bytes:
    buffer = io.BytesIO()
    arrays = {"pooled": embedded.pooled, "scale": embedded.scale, "size": embedded.size}
    if with_maps:
        arrays["fmap"] = embedded.fmap
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@_timed("extract")
def extract(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.custom_labels.training import backbone

    bucket, prefix, _ = _location(event["ProjectVersionArn"])
    planned = json.loads(_get(bucket, f"{prefix}training/plan.json"))
    items = planned[event["Split"]][event["First"] : event["End"]]
    images = read_images([item["SourceRef"] for item in items])
    embedded = backbone.embed(images, maps=planned["Kind"] == "detection")
    name = f"{event['Split']}-{event['Index']:05d}.npz"
    _put(bucket, f"{prefix}training/features-{name}", features_bytes(embedded, planned["Kind"] == "detection"))
    if planned["Kind"] == MODERATION:  # what the adapter corrects: the base model on each image
        from recognito.analysis.moderation import base_confidences, detectable_labels

        names = [label["Name"] for label in detectable_labels()]
        found = [base_confidences(rgb) for rgb in images]
        buffer = io.BytesIO()
        np.savez(buffer, base=np.array([[f[n] for n in names] for f in found], np.float32).reshape(-1, len(names)))
        _put(bucket, f"{prefix}training/base-{name}", buffer.getvalue())
    return {}


def _parts(bucket: str, prefix: str, stem: str, split: str) -> list[Any]:
    """The ``training/<stem>-<split>-*.npz`` batches in batch order."""
    keys = sorted(
        obj["Key"]
        for page in s3_client()
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=f"{prefix}training/{stem}-{split}-")
        for obj in page.get("Contents", [])
    )
    return [np.load(io.BytesIO(_get(bucket, key))) for key in keys]


def _load_base(bucket: str, prefix: str, split: str) -> tuple[np.ndarray, list[str]]:
    """The base moderation model's confidences of a split's images (N, labels), and the labels."""
    from recognito.analysis.moderation import detectable_labels

    return (
        np.concatenate([p["base"] for p in _parts(bucket, prefix, "base", split)]),
        [label["Name"] for label in detectable_labels()],
    )


def _load_features(bucket: str, prefix: str, split: str) -> Any:
    from recognito.custom_labels.training.backbone import GRID, Embedded

    parts = _parts(bucket, prefix, "features", split)
    fmap = [p["fmap"] if "fmap" in p.files else np.zeros((len(p["scale"]), 0, GRID, GRID), np.float16) for p in parts]
    return Embedded(
        *(
            np.concatenate(a)
            for a in ([p["pooled"] for p in parts], fmap, [p["scale"] for p in parts], [p["size"] for p in parts])
        )
    )


def examples(items: list[dict[str, Any]]) -> list[Any]:
    from recognito.custom_labels.training.model import Example

    return [
        Example(frozenset(item["Labels"]), tuple((b[0], np.array(b[1:], np.float32)) for b in item["Boxes"]))
        for item in items
    ]


# ---- train, evaluate, record ----------------------------------------------------------------------


@_timed("train")
def train(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.custom_labels.training import model

    bucket, prefix, _ = _location(event["ProjectVersionArn"])
    planned = json.loads(_get(bucket, f"{prefix}training/plan.json"))
    embedded = _load_features(bucket, prefix, "Train")
    if planned["Kind"] == MODERATION:
        artifact = _train_adapter(planned, embedded, *_load_base(bucket, prefix, "Train"))
        _put(bucket, f"{prefix}model/model.npz", artifact)
        return {}
    trained = model.train(planned["Kind"], embedded, examples(planned["Train"]), tuple(planned["Labels"]))
    _put(bucket, f"{prefix}model/model.npz", trained.to_bytes())
    return {}


def _truth_sets(items: list[dict[str, Any]]) -> list[frozenset[str]]:
    return [frozenset(item["Labels"]) for item in items]


def _train_adapter(planned: dict[str, Any], embedded: Any, base: np.ndarray, base_labels: list[str]) -> bytes:
    from recognito.analysis.moderation_taxonomy import base_model_version
    from recognito.custom_labels.training import adapter

    trained = adapter.train(
        embedded.pooled,
        base,
        base_labels,
        _truth_sets(planned["Train"]),
        planned["Threshold"],
        base_model_version(),
    )
    if not trained.labels:
        raise TrainingFailure(
            "Nothing to adapt: no training image is annotated with a moderation label and the base model "
            f"reports none at the confidence threshold {planned['Threshold']:g}."
        )
    return trained.to_bytes()


def _evaluate_adapter(bucket: str, prefix: str, planned: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The adapter's evaluation summary on the testing images, and its F1 score."""
    from recognito.custom_labels.training import adapter

    trained = adapter.Adapter.from_bytes(_get(bucket, f"{prefix}model/model.npz"))
    base, base_labels = _load_base(bucket, prefix, "Test")
    found = adapter.evaluate(
        trained, _load_features(bucket, prefix, "Test").pooled, base, base_labels, _truth_sets(planned["Test"])
    )
    aggregate = found["Aggregate"]
    document = {
        "AggregatedEvaluationResults": {
            **{name: aggregate["Adapter"][name] for name in ("Precision", "Recall", "F1Score")},
            **aggregate,
            "ConfidenceThreshold": trained.threshold,
            "BaseModelVersion": trained.base_model_version,
        },
        "LabelEvaluationResults": found["PerLabel"],
    }
    return document, aggregate["Adapter"]["F1Score"]


def evaluate_model(trained: Any, embedded: Any, truth: list[Any]) -> tuple[dict, dict, dict[str, int], float]:
    """Per-label metrics at the assumed thresholds, the kind's aggregate extras, images per label,
    and the F1 score DescribeProjectVersions shows (the mean of the labels')."""
    from recognito.custom_labels.training import evaluation

    found = trained.predict(embedded)
    from recognito.custom_labels.training.model import score

    scored = score(trained, found, truth)
    metrics = evaluation.per_label(scored, trained.thresholds)
    if trained.kind == "detection":
        aps = [evaluation.average_precision(s) for s in scored.values()]
        recalls = [evaluation.metrics_at(s, 0.0)["Recall"] for s in scored.values()]
        extra = {"AveragePrecision": float(np.mean(aps)), "AverageRecall": float(np.mean(recalls))}
    else:
        probs = np.array([[dict((f[0], f[1]) for f in image)[label] for label in trained.labels] for image in found])
        extra = {"ConfusionMatrix": evaluation.confusion(probs, [set(e.labels) for e in truth], trained.labels)}
    images = {label: sum(label in e.labels for e in truth) for label in trained.labels}
    f1 = float(np.mean([m["F1Score"] for m in metrics.values()])) if metrics else 0.0
    return metrics, extra, images, f1


@_timed("evaluate")
def evaluate(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.custom_labels.training import evaluation
    from recognito.custom_labels.training.model import Model

    arn = event["ProjectVersionArn"]
    bucket, prefix, record = _location(arn)
    planned = json.loads(_get(bucket, f"{prefix}training/plan.json"))
    version = record.item.split("#", 1)[-1]
    key = f"{prefix}EvaluationSummary-{record.project}-{version}.json"
    if planned["Kind"] == MODERATION:
        results, f1 = _evaluate_adapter(bucket, prefix, planned)
        details = {
            "ProjectVersionArn": arn,
            "EvaluationEndTimestamp": datetime.now(UTC).isoformat(),
            "Labels": [r["Label"] for r in results["LabelEvaluationResults"]],
            "NumberOfTrainingImages": len(planned["Train"]),
            "NumberOfTestingImages": len(planned["Test"]),
        }
        document = {"Version": 1, "EvaluationDetails": details, **results}
        _put(bucket, key, json.dumps(document, indent=1).encode())
        return {"F1Score": f1, "Summary": {"Bucket": bucket, "Name": key}}
    trained = Model.from_bytes(_get(bucket, f"{prefix}model/model.npz"))
    metrics, extra, images, f1 = evaluate_model(
        trained, _load_features(bucket, prefix, "Test"), examples(planned["Test"])
    )
    document = evaluation.summary(
        version_arn=arn,
        ended=datetime.now(UTC).isoformat(),
        labels=trained.labels,
        training_images=len(planned["Train"]),
        testing_images=len(planned["Test"]),
        label_metrics=metrics,
        label_images=images,
        extra=extra,
    )
    _put(bucket, key, json.dumps(document, indent=1).encode())
    return {"F1Score": f1, "Summary": {"Bucket": bucket, "Name": key}}


def _billable_seconds(bucket: str, prefix: str) -> int:
    total = 0.0
    for page in (
        s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}training/seconds-")
    ):
        for obj in page.get("Contents", []):
            total += json.loads(_get(bucket, obj["Key"]))["Seconds"]
    return max(1, round(total))


def _manifest_result(bucket: str, key: str) -> dict[str, Any]:
    return {"Input": {}, "Output": {"S3Object": {"Bucket": bucket, "Name": key}}}


def record(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.custom_labels import versions

    arn = event["ProjectVersionArn"]
    bucket, prefix, _ = _location(arn)
    evaluated = event["Evaluation"]
    plan_key = f"{prefix}training/plan.json"
    versions.record_training_result(
        arn,
        status="TRAINING_COMPLETED",
        message=None,
        evaluation={
            "F1Score": evaluated["F1Score"],
            "Summary": {"S3Object": evaluated["Summary"]},
        },
        training_result=_manifest_result(bucket, plan_key),
        testing_result=_manifest_result(bucket, plan_key),
        manifest_summary={"S3Object": {"Bucket": bucket, "Name": plan_key}},
        billable_seconds=_billable_seconds(bucket, prefix),
        model_artifact=f"s3://{bucket}/{prefix}model/model.npz",
    )
    return {}


def fail(event: dict[str, Any]) -> dict[str, Any]:
    """TRAINING_FAILED with the failure's message: a ``TrainingFailure``'s own words, else a generic one."""
    from recognito.custom_labels import versions

    error = event.get("Error") or {}
    try:
        cause = json.loads(error.get("Cause") or "{}")
    except ValueError:
        cause = {}
    if error.get("Error") == "TrainingFailure" and cause.get("errorMessage"):
        message = cause["errorMessage"]
    else:
        message = f"Training failed: {cause.get('errorMessage') or error.get('Error') or 'an internal error'}"
    versions.fail_training(event["ProjectVersionArn"], message[:1000])
    return {}


STEPS = {
    "validate": validate,
    "extract": extract,
    "train": train,
    "evaluate": evaluate,
    "record": record,
    "fail": fail,
}


def run(event: dict[str, Any]) -> dict[str, Any]:
    step = STEPS.get(event.get("Step", ""))
    if step is None:
        raise InvalidParameterException(f"unknown custom labels training step {event.get('Step')!r}")
    return step(event)
