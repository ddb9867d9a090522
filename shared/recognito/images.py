"""Image input for every Rekognition image operation: ``Image`` -> one decoded RGB array.

Every image operation takes an ``Image`` member that is either ``{"Bytes": b"..."}`` (already
base64-decoded by the protocol layer) or ``{"S3Object": {"Bucket", "Name", "Version"}}``. A service
calls :func:`load_image` once per image member and hands the :class:`DecodedImage` to everything
that needs pixels, so each image is fetched, checked and decoded exactly once per request.

Behaviour follows Rekognition's documentation ("Guidelines and quotas", "Error handling", the
service model's shape and error docs) and errors observed from the real service:

* JPEG and PNG only, recognised by content, not by name. Anything else, and any file that cannot
  be decoded (corrupt, truncated), is ``InvalidImageFormatException: Request has invalid image
  format``.
* ``Bytes`` up to 5 MB (4 MB for DetectProtectiveEquipment and DetectCustomLabels), S3 objects up to
  15 MB; more is ``ImageTooLargeException``.
* Width and height at least 80 px (64 px for DetectProtectiveEquipment); a smaller image is
  ``InvalidParameterException: Request has invalid parameters``, which is what Rekognition answers
  for it (boto/botocore#1366: an image under 80 px got exactly that).
* A maximum resolution (10,000 px a side for DetectLabels and DetectModerationLabels, 4,096 for
  DetectProtectiveEquipment) is ``ImageTooLargeException`` with AWS's message "Input image
  dimensions W x H exceed maximum dimension size of N pixels". The pixel-count guard against
  decompression bombs answers the same way, from the header, before any pixel is decoded.
* JPEG EXIF orientation is applied, so coordinates computed on :attr:`DecodedImage.rgb` are for the
  corrected image as Rekognition documents; PNG is never rotated ("Amazon Rekognition doesn't
  perform image correction for images in .png format").
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin

from recognito.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
    InvalidS3ObjectException,
)
from recognito.registry import registry

MB = 1024 * 1024

INVALID_FORMAT_MESSAGE = "Request has invalid image format"
INVALID_PARAMETERS_MESSAGE = "Request has invalid parameters"
S3_ACCESS_MESSAGE = "Unable to get object metadata from S3. Check object key, region and/or access permissions."

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# EXIF Orientation (tag 0x0112) -> the transposition that shows the image upright, as in the EXIF
# spec and Pillow's ImageOps.exif_transpose.
_EXIF_ORIENTATION = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ImageLimits:
    """The limits one operation puts on its input image (Rekognition's "Guidelines and quotas")."""

    max_bytes: int = 5 * MB
    """Largest ``Bytes`` blob; the service model's ``ImageBlob`` max is 5,242,880."""
    max_s3_bytes: int = 15 * MB
    """Largest S3 object."""
    min_side: int = 80
    """Smallest width and height."""
    max_side: int | None = None
    """Largest width and height, where the operation documents one."""
    max_pixels: int = 10_000 * 10_000
    """Decompression-bomb guard: the largest resolution AWS documents for any operation (10K x 10K),
    so no image that Rekognition accepts is refused, and at most ~300 MB of RGB is ever allocated."""
    max_decode_pixels: int = 4096 * 4096
    """The pixel budget: a larger image is decoded downscaled by the smallest whole factor that fits
    (JPEG by the decoder's own 1/2, 1/4, 1/8 scaling, then box-averaging; PNG box-averaged a band
    of rows at a time), so no request holds more than ~50 MB of RGB. Every model looks at far fewer
    pixels than this, and every coordinate Rekognition returns is a ratio of the image's size."""


DEFAULT_LIMITS = ImageLimits()

@cache
def limits_for(operation: str) -> ImageLimits:
    """The image limits of ``operation`` (e.g. ``"DetectProtectiveEquipment"``): the defaults, with
    the registry's ``image`` entry where the operation documents other limits."""
    try:
        overrides = registry().operation(operation).image
    except LookupError:
        overrides = {}
    return replace(DEFAULT_LIMITS, **overrides)


@dataclass(frozen=True)
class DecodedImage:
    """One input image, decoded once and upright; shared by everything in the request."""

    rgb: np.ndarray
    """H x W x 3 ``uint8``, read-only, EXIF orientation already applied (JPEG only)."""
    format: str
    """``"JPEG"`` or ``"PNG"``: what the bytes are, whatever the object is called."""
    exif_orientation: int = 1
    """The EXIF Orientation (1-8) that was applied; 1 when there was none (always 1 for PNG)."""
    orientation_correction: str | None = None
    """The value for the response's ``OrientationCorrection`` fields. Always ``None``: Rekognition
    stopped estimating orientation in August 2021 and documents the field as always null (the
    DetectFaces, CompareFaces and RecognizeCelebrities response docs; IndexFaces with face models
    later than 3.0). A service omits the member when this is ``None``."""

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @cached_property
    def grey(self) -> np.ndarray:
        """H x W ``uint8`` luma (ITU-R 601-2, exactly as Pillow's ``convert("L")``), read-only."""
        rgb = self.rgb.astype(np.uint32)
        luma = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
        grey = luma.astype(np.uint8)
        grey.setflags(write=False)
        return grey

    def to_pil(self) -> Image.Image:
        """A Pillow copy of the pixels, for resizing and cropping with Pillow's filters."""
        return Image.fromarray(self.rgb, "RGB")


def load_image(
    image: Mapping[str, Any],
    limits: ImageLimits = DEFAULT_LIMITS,
    *,
    s3_client: Any = None,
    member: str = "Image",
) -> DecodedImage:
    """Fetch, check and decode one ``Image`` member of a request.

    ``member`` is the request member's name (``"Image"``, ``"SourceImage"``, ``"TargetImage"``),
    used in messages. ``s3_client`` is a boto3 S3 client; by default one is made with
    ``boto3.client("s3")``, which honours ``AWS_ENDPOINT_URL``.

    Raises ``InvalidParameterException`` (not exactly one of ``Bytes`` / ``S3Object``, or an image
    smaller than ``limits.min_side``), ``InvalidS3ObjectException``, ``ImageTooLargeException`` and
    ``InvalidImageFormatException``.
    """
    data = _image_bytes(image, limits, s3_client, member)
    return decode_image(data, limits)


def decode_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> DecodedImage:
    """Check and decode image bytes already in hand (``load_image`` without the fetching)."""
    if data[: len(_JPEG_MAGIC)] == _JPEG_MAGIC:
        opener, fmt = JpegImagePlugin.JpegImageFile, "JPEG"
    elif data[: len(_PNG_MAGIC)] == _PNG_MAGIC:
        opener, fmt = PngImagePlugin.PngImageFile, "PNG"
    else:
        raise InvalidImageFormatException(INVALID_FORMAT_MESSAGE)

    try:
        # The plugin class is called directly rather than through Image.open: Image.open applies
        # Pillow's process-wide MAX_IMAGE_PIXELS (warning, then DecompressionBombError) which would
        # fight ours; our limit is checked below, from the header that the constructor has read,
        # before load() allocates or decodes anything.
        pil = opener(io.BytesIO(data))
    except Exception:
        raise InvalidImageFormatException(INVALID_FORMAT_MESSAGE) from None

    with pil:
        width, height = pil.size
        _check_dimensions(width, height, limits)
        orientation = _exif_orientation(pil) if fmt == "JPEG" else 1
        try:
            upright = _decode_within(pil, limits.max_decode_pixels)
        except Exception:
            # Truncated or corrupt data, whatever the decoder calls it, is the caller's image's
            # fault: a 400, never a 500.
            raise InvalidImageFormatException(INVALID_FORMAT_MESSAGE) from None
        if orientation in _UPRIGHT:
            upright = upright.transpose(_UPRIGHT[orientation])
        # Built while `pil` is open: for an RGB file `upright` is `pil` itself.
        rgb = np.array(upright, dtype=np.uint8)
    rgb.setflags(write=False)
    return DecodedImage(rgb=rgb, format=fmt, exif_orientation=orientation if orientation in _UPRIGHT else 1)


def _image_bytes(image: Mapping[str, Any], limits: ImageLimits, s3_client: Any, member: str) -> bytes:
    if not isinstance(image, Mapping):
        raise InvalidParameterException(f"{member} must be an object with Bytes or S3Object")
    blob, s3_object = image.get("Bytes"), image.get("S3Object")
    if (blob is None) == (s3_object is None):
        which = "both" if blob is not None else "neither"
        raise InvalidParameterException(
            f"{member} must specify exactly one of Bytes or S3Object; the request has {which}"
        )
    if blob is not None:
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise InvalidParameterException(f"{member}.Bytes must be image bytes")
        data = bytes(blob)
        if len(data) > limits.max_bytes:
            raise ImageTooLargeException(
                f"{member} size of {len(data)} bytes exceeds the maximum of {limits.max_bytes} bytes"
            )
        if not data:
            raise InvalidImageFormatException(INVALID_FORMAT_MESSAGE)
        return data
    if not isinstance(s3_object, Mapping):
        raise InvalidParameterException(f"{member}.S3Object must be an object with Bucket and Name")
    return _read_s3_object(s3_object, limits.max_s3_bytes, s3_client, member)


def _read_s3_object(s3_object: Mapping[str, Any], limit: int, s3_client: Any, member: str) -> bytes:
    from botocore.exceptions import ClientError, ParamValidationError

    bucket, key, version = s3_object.get("Bucket"), s3_object.get("Name"), s3_object.get("Version")
    if not bucket or not key:
        # Nothing can be fetched; Rekognition reports an object it cannot reach this way.
        raise InvalidS3ObjectException(S3_ACCESS_MESSAGE)
    request = {"Bucket": bucket, "Key": key}
    if version:
        request["VersionId"] = version
    client = s3_client if s3_client is not None else _default_s3_client(*_endpoint_environment())
    try:
        response = client.get_object(**request)
    except (ClientError, ParamValidationError):
        # Missing bucket, key or version, access denied, a malformed version id: all the caller's
        # to fix. Connection failures are not, so they propagate (and become a 500).
        raise InvalidS3ObjectException(S3_ACCESS_MESSAGE) from None
    body = response["Body"]
    try:
        # Both checks: ContentLength refuses a large object without reading it; the bounded read
        # holds even if the length was absent or wrong.
        size = response.get("ContentLength")
        if size is not None and size > limit:
            raise ImageTooLargeException(
                f"{member} S3 object size of {size} bytes exceeds the maximum of {limit} bytes"
            )
        data = body.read(limit + 1)
    finally:
        body.close()
    if len(data) > limit:
        raise ImageTooLargeException(f"{member} S3 object exceeds the maximum of {limit} bytes")
    if not data:
        raise InvalidImageFormatException(INVALID_FORMAT_MESSAGE)
    return data


def _endpoint_environment() -> tuple[str | None, ...]:
    return tuple(
        os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION")
    )


@cache
def _default_s3_client(*environment: str | None) -> Any:
    # One client per endpoint configuration: creating a client costs tens of milliseconds, and the
    # key keeps a changed AWS_ENDPOINT_URL (tests, `recognito serve`) from reusing a stale one.
    import boto3

    return boto3.client("s3")


def _check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise ImageTooLargeException(f"Image dimensions: {width} x {height} pixels exceed the maximum limit.")
    if limits.max_side is not None and max(width, height) > limits.max_side:
        raise ImageTooLargeException(
            f"Input image dimensions {width} x {height} exceed maximum dimension size of {limits.max_side} pixels"
        )
    if min(width, height) < limits.min_side:
        # Rekognition's own answer to an image under the documented minimum (not ImageTooSmall,
        # which does not exist, nor InvalidImageFormat): boto/botocore#1366.
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)


def _exif_orientation(pil: Image.Image) -> int:
    try:
        value = pil.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:
        # Damaged EXIF is metadata lost, not an undecodable image.
        return 1
    return value if isinstance(value, int) else 1


def _reduction(width: int, height: int, budget: int) -> int:
    """The smallest whole factor that brings ``width`` x ``height`` within ``budget`` pixels."""
    factor = max(1, int((width * height / budget) ** 0.5))
    while -(-width // factor) * -(-height // factor) > budget:
        factor += 1
    return factor


def _decode_within(pil: Image.Image, budget: int) -> Image.Image:
    """The image as RGB, downscaled to at most ``budget`` pixels (``ImageLimits.max_decode_pixels``).

    A 10,000 x 10,000 PNG (126 KB when flat) is decoded in its own mode, then converted and
    box-averaged a band of rows at a time: never the 300 MB RGB copy, nor the copies after it.
    """
    width, height = pil.size
    factor = _reduction(width, height, budget)
    if factor > 1 and isinstance(pil, JpegImagePlugin.JpegImageFile):
        pil.draft("RGB", (-(-width // factor), -(-height // factor)))  # decodes at 1/2, 1/4 or 1/8
    pil.load()
    width, height = pil.size
    factor = _reduction(width, height, budget)
    if factor == 1:
        return _to_rgb(pil)
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    band = factor * max(1, 1024 // factor)  # rows per band: a whole number of output rows
    for top in range(0, height, band):
        rows = _to_rgb(pil.crop((0, top, width, min(height, top + band))))
        reduced.paste(rows.reduce(factor), (0, top // factor))
    return reduced


def _to_rgb(pil: Image.Image) -> Image.Image:
    """Any JPEG or PNG mode as 8-bit RGB.

    Alpha is dropped, keeping the stored colour (what libpng's strip-alpha and most decoders give);
    AWS documents nothing about transparency. 16-bit greyscale is scaled to 8 bits (Pillow's own
    conversion clips it). CMYK JPEGs, Adobe-inverted or not, are converted by Pillow.
    """
    mode = pil.mode
    if mode == "RGB":
        return pil
    if mode.startswith("I"):
        wide = np.asarray(pil).astype(np.uint32)
        scaled = (np.clip(wide, 0, 65535) * 255 + 32767) // 65535
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if mode in ("P", "PA"):
        # Through RGBA so that palette transparency is read whatever form it takes.
        pil = pil.convert("RGBA")
    return pil.convert("RGB")
