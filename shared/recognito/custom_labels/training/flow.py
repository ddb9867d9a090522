"""The steps of ``statemachines/custom_labels_training.asl.json``, one worker entry point.

validate -> extract (a Map over batches of images) -> train -> evaluate -> record; any failure goes
to ``fail``, which ends the version TRAINING_FAILED with the failure's message. Steps hand work to
each other through S3, under the version's OutputConfig prefix
(``s3://<S3Bucket>/<S3KeyPrefix><project>/<version>/``): ``training/plan.json`` (the images and their
truth), ``training/features-<split>-<batch>.npz`` (backbone features), ``training/seconds-*.json``
(each step's own run time: BillableTrainingTimeInSeconds is their sum), ``model/model.npz`` (the
model artifact DetectCustomLabels loads) and ``EvaluationSummary-<project>-<version>.json``.

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


def _automatic_split(entries: list[ManifestEntry]) -> tuple[list[ManifestEntry], list[ManifestEntry]]:
    """A stable 80/20 split by the hash of each image's source-ref, taking a fifth of each label's
    images (at least one) for testing."""
    ranked = sorted(entries, key=lambda e: hashlib.sha256(e.source_ref.encode()).hexdigest())
    test: set[str] = set()
    for label in sorted({label for e in entries for label in e.labels}):
        mine = [e for e in ranked if label in e.labels]
        wanted = max(1, round(len(mine) * TEST_SHARE))
        already = sum(e.source_ref in test for e in mine)
        for e in mine:
            if already >= wanted:
                break
            if e.source_ref not in test:
                test.add(e.source_ref)
                already += 1
    return [e for e in entries if e.source_ref not in test], [e for e in entries if e.source_ref in test]


def plan(train: list[ManifestEntry], test: list[ManifestEntry] | None) -> dict[str, Any]:
    """Which images train and test, the model's kind and labels; ``TrainingFailure`` when the data
    cannot make a model (too few images, a single label for a classifier, no labels)."""
    train = [e for e in train if not e.has_errors and e.labeled]
    kind = "detection" if any(e.boxes for e in train) else "classification"
    labels = sorted({label for e in train for label in e.labels})
    if not labels:
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
    planned = plan(train, test)
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
    embedded = backbone.embed(read_images([item["SourceRef"] for item in items]), maps=planned["Kind"] == "detection")
    key = f"{prefix}training/features-{event['Split']}-{event['Index']:05d}.npz"
    _put(bucket, key, features_bytes(embedded, planned["Kind"] == "detection"))
    return {}


def _load_features(bucket: str, prefix: str, split: str) -> Any:
    from recognito.custom_labels.training.backbone import GRID, Embedded

    keys = sorted(
        obj["Key"]
        for page in s3_client()
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=f"{prefix}training/features-{split}-")
        for obj in page.get("Contents", [])
    )
    parts = [np.load(io.BytesIO(_get(bucket, key))) for key in keys]
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
    trained = model.train(planned["Kind"], embedded, examples(planned["Train"]), tuple(planned["Labels"]))
    _put(bucket, f"{prefix}model/model.npz", trained.to_bytes())
    return {}


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
    trained = Model.from_bytes(_get(bucket, f"{prefix}model/model.npz"))
    metrics, extra, images, f1 = evaluate_model(
        trained, _load_features(bucket, prefix, "Test"), examples(planned["Test"])
    )
    version = record.item.split("#", 1)[-1]
    key = f"{prefix}EvaluationSummary-{record.project}-{version}.json"
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
