"""Every implemented operation answers bad requests as AWS does, never with a 500.

The requests are built from botocore's model: each member whose shape is ``Image`` gets the bad
image, required strings get valid values, so a new image operation is covered as soon as it exists.
"""

from __future__ import annotations

import base64
import io

import pytest
from conftest import FUNCTIONS, call
from models_available import needs_models
from PIL import Image
from recognito.protocol import operation_model, operation_names

pytestmark = pytest.mark.usefixtures("aws")


def _image_operations() -> list[str]:
    from botocore import xform_name

    found = []
    for operation in sorted(operation_names()):
        shape = operation_model(operation).input_shape
        if shape is None or not (FUNCTIONS / xform_name(operation) / "app.py").exists():
            continue
        if any(member.name == "Image" for member in shape.members.values()):
            found.append(operation)
    return found


# Required strings whose pattern "sweep" does not match: a well-formed name of nothing that exists.
WELL_FORMED = {"ProjectVersionArn": "arn:aws:rekognition:us-east-1:123456789012:project/sweep/version/sweep/1"}


def _request(operation: str, image: dict) -> dict:
    shape = operation_model(operation).input_shape
    request = {}
    for name, member in shape.members.items():
        if member.name == "Image":
            request[name] = image
        elif name in shape.required_members and member.type_name == "string":
            request[name] = WELL_FORMED.get(name, "sweep")
    return request


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (90, 120, 150)).save(buffer, "GIF")
    return buffer.getvalue()


BAD_IMAGES = {
    "random bytes": ({"Bytes": base64.b64encode(b"not an image at all" * 10).decode()}, "InvalidImageFormatException"),
    "gif": ({"Bytes": base64.b64encode(_gif()).decode()}, "InvalidImageFormatException"),
    "truncated png": ({"Bytes": base64.b64encode(_png(200, 200)[:60]).decode()}, "InvalidImageFormatException"),
    "too small": ({"Bytes": base64.b64encode(_png(40, 40)).decode()}, "InvalidParameterException"),
    "missing s3 object": ({"S3Object": {"Bucket": "no-such-bucket", "Name": "x.jpg"}}, "InvalidS3ObjectException"),
}


def test_the_sweep_covers_the_image_operations():
    assert {"DetectFaces", "CompareFaces", "IndexFaces", "DetectLabels", "DetectText"} <= set(_image_operations())


@pytest.mark.parametrize("operation", _image_operations())
@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_image(operation, case):
    needs_models("centerface")
    call("CreateCollection", {"CollectionId": "sweep"})
    image, code = BAD_IMAGES[case]
    status, body = call(operation, _request(operation, image))
    assert status == 400, body
    assert body["__type"] == code, body
    assert body["message"]


def _implemented() -> list[str]:
    from botocore import xform_name

    return [op for op in sorted(operation_names()) if (FUNCTIONS / xform_name(op) / "app.py").exists()]


@pytest.mark.parametrize("operation", _implemented())
def test_an_empty_request_is_refused_by_name_or_served(operation):
    status, body = call(operation, {})
    required = operation_model(operation).input_shape.required_members
    if required:
        assert (status, body["__type"]) == (400, "ValidationException"), body
        assert all(f"'{name[0].lower() + name[1:]}'" in body["message"] for name in required)
    else:
        assert status in (200, 400) and body.get("__type") != "InternalServerError", body


def test_tagging_with_no_tags_is_valid_and_changes_nothing():
    arn = "arn:" + call("CreateCollection", {"CollectionId": "tagged", "Tags": {"team": "a"}})[1]["CollectionArn"]
    assert call("TagResource", {"ResourceArn": arn, "Tags": {}}) == (200, {})
    assert call("ListTagsForResource", {"ResourceArn": arn}) == (200, {"Tags": {"team": "a"}})
    status, error = call("TagResource", {"ResourceArn": arn.replace("/tagged", "/ghost"), "Tags": {}})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_an_empty_celebrity_id_names_no_celebrity():
    status, error = call("GetCelebrityInfo", {"Id": ""})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException"), error
