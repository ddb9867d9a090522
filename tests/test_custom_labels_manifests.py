"""Ground Truth manifest lines: each format read into labels and boxes, each malformation named."""

from __future__ import annotations

import json

import pytest
from recognito.custom_labels.manifests import LabeledBox, parse_line, parse_manifest

SOURCE = "s3://bucket/images/1.jpg"


def _line(**document: object) -> str:
    return json.dumps({"source-ref": SOURCE, **document})


def _codes(line: str) -> list[str]:
    return [error.split(":", 1)[0] for error in parse_line(line).errors]


def test_single_label_classification_and_several_attributes():
    line = _line(
        kind=1,
        **{"kind-metadata": {"class-name": "Exterior", "type": "groundtruth/image-classification"}},
        light=0,
        **{"light-metadata": {"class-name": "Night", "type": "groundtruth/image-classification"}},
    )
    entry = parse_line(line + "\n")
    assert entry.source_ref == SOURCE and entry.labels == ("Exterior", "Night") and entry.boxes == ()
    assert entry.errors == () and entry.labeled and entry.line == line


def test_multi_label_classification_uses_the_class_map():
    line = _line(
        tags=[0, 2],
        **{
            "tags-metadata": {
                "class-map": {"0": "cat", "1": "dog", "2": "sofa"},
                "type": "groundtruth/image-classification-multilabel",
            }
        },
    )
    assert parse_line(line).labels == ("cat", "sofa")


def test_object_detection_boxes_are_ratios_of_the_image():
    value = {
        "image_size": [{"width": 400, "height": 200, "depth": 3}],
        "annotations": [
            {"class_id": 1, "left": 100, "top": 50, "width": 200, "height": 100},
            {"class_id": 0, "left": 0, "top": 0, "width": 40, "height": 20},
            {"class_id": 1, "left": 300, "top": 100, "width": 100, "height": 100},
        ],
    }
    metadata = {"class-map": {"0": "ace", "1": "king"}, "type": "groundtruth/object-detection"}
    entry = parse_line(_line(cards=value, **{"cards-metadata": metadata}))
    assert entry.errors == () and entry.labels == ("king", "ace")
    assert entry.boxes == (
        LabeledBox("king", 0.25, 0.25, 0.5, 0.5),
        LabeledBox("ace", 0.0, 0.0, 0.1, 0.1),
        LabeledBox("king", 0.75, 0.5, 0.25, 0.5),
    )


def test_an_image_without_labels_is_a_valid_unlabeled_entry():
    entry = parse_line(_line())
    assert entry.errors == () and not entry.labeled and not entry.has_errors


DETECTION = {"class-map": {"0": "ace"}, "type": "groundtruth/object-detection"}
BOX = {"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 5}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("not json", "ERROR_INVALID_JSON_LINE"),
        ("[1, 2]", "ERROR_INVALID_JSON_LINE"),
        (json.dumps({"x": 1}), "ERROR_MISSING_SOURCE_REF"),
        (json.dumps({"source-ref": "https://bucket/x.jpg"}), "ERROR_INVALID_SOURCE_REF_FORMAT"),
        (json.dumps({"source-ref": "s3://bucket-only"}), "ERROR_INVALID_SOURCE_REF_FORMAT"),
        (_line(a=0, **{"a-metadata": "x"}), "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT"),
        (
            _line(a=0, **{"a-metadata": {"type": "groundtruth/semantic-segmentation"}}),
            "ERROR_UNSUPPORTED_USE_CASE_TYPE",
        ),
        (
            _line(a=[0], **{"a-metadata": {"class-name": "x", "type": "groundtruth/image-classification"}}),
            "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT",
        ),
        (
            _line(a=0, **{"a-metadata": {"class-name": "", "type": "groundtruth/image-classification"}}),
            "ERROR_INVALID_LABEL_NAME_LENGTH",
        ),
        (
            _line(a=0, **{"a-metadata": {"class-name": "x" * 257, "type": "groundtruth/image-classification"}}),
            "ERROR_INVALID_LABEL_NAME_LENGTH",
        ),
        (
            _line(
                a=[3],
                **{"a-metadata": {"class-map": {"0": "x"}, "type": "groundtruth/image-classification-multilabel"}},
            ),
            "ERROR_MISSING_CLASS_MAP_ID",
        ),
        (
            _line(a=[0], **{"a-metadata": {"type": "groundtruth/image-classification-multilabel"}}),
            "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT",
        ),
        (_line(a={"annotations": [BOX]}, **{"a-metadata": DETECTION}), "ERROR_INVALID_IMAGE_DIMENSION"),
        (
            _line(a={"image_size": [{"width": 0, "height": 9}], "annotations": [BOX]}, **{"a-metadata": DETECTION}),
            "ERROR_INVALID_IMAGE_DIMENSION",
        ),
        (
            _line(a={"image_size": [{"width": 9, "height": 9}]}, **{"a-metadata": DETECTION}),
            "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT",
        ),
        (
            _line(
                a={"image_size": [{"width": 9, "height": 9}], "annotations": [{**BOX, "width": 0}]},
                **{"a-metadata": DETECTION},
            ),
            "ERROR_INVALID_BOUNDING_BOX",
        ),
        (
            _line(
                a={"image_size": [{"width": 9, "height": 9}], "annotations": [{**BOX, "left": 8}]},
                **{"a-metadata": DETECTION},
            ),
            "ERROR_INVALID_BOUNDING_BOX",
        ),
        (
            _line(
                a={"image_size": [{"width": 9, "height": 9}], "annotations": [{"class_id": 0}]},
                **{"a-metadata": DETECTION},
            ),
            "ERROR_INVALID_BOUNDING_BOX",
        ),
        (
            _line(
                a={"image_size": [{"width": 9, "height": 9}], "annotations": [{**BOX, "class_id": 4}]},
                **{"a-metadata": DETECTION},
            ),
            "ERROR_MISSING_CLASS_MAP_ID",
        ),
        (
            _line(a={"image_size": [{"width": 9, "height": 9}], "annotations": ["box"]}, **{"a-metadata": DETECTION}),
            "ERROR_INVALID_ANNOTATIONS",
        ),
        (
            _line(
                a={"image_size": [{"width": 99, "height": 99}], "annotations": [BOX] * 51}, **{"a-metadata": DETECTION}
            ),
            "ERROR_TOO_MANY_BOUNDING_BOXES",
        ),
    ],
)
def test_malformed_lines_are_error_entries_with_the_reason(line, code):
    entry = parse_line(line)
    assert entry.has_errors and entry.line == line
    assert _codes(line) == [code]


def test_one_bad_attribute_keeps_the_good_ones_labels_and_the_manifest_keeps_every_line():
    good = {"class-name": "king", "type": "groundtruth/image-classification"}
    line = _line(a=0, **{"a-metadata": good}, b=0, **{"b-metadata": {"type": "unknown"}})
    entry = parse_line(line)
    assert entry.labels == ("king",) and _codes(line) == ["ERROR_UNSUPPORTED_USE_CASE_TYPE"]
    entries = parse_manifest("\n".join([line, "", "  ", "oops", _line()]))
    assert [e.has_errors for e in entries] == [True, True, False]


def test_lines_end_at_newlines_only():
    label = "king\u2028of hearts"
    line = _line(a=0, **{"a-metadata": {"class-name": label, "type": "groundtruth/image-classification"}})
    line = line.replace("\\u2028", "\u2028")  # as a raw character, which JSON allows in a string
    entries = parse_manifest(line + "\r\n" + _line())
    assert [entry.labels for entry in entries] == [(label,), ()] and not any(e.has_errors for e in entries)
