"""recognito.images: Bytes / S3Object in, one upright RGB array out, with Rekognition's errors."""

from __future__ import annotations

import io
import struct
import zlib

import boto3
import numpy as np
import pytest
from moto import mock_aws
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin
from recognito.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
    InvalidS3ObjectException,
)
from recognito.images import (
    DEFAULT_LIMITS,
    DecodedImage,
    ImageLimits,
    limits_for,
    load_image,
)
from skimage import data

ASTRONAUT = data.astronaut()  # 512 x 512 RGB
MB = 1024 * 1024
RED = (255, 0, 0)


def encode(image: Image.Image | np.ndarray, fmt: str = "PNG", **options) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand, for what Pillow cannot write: 16-bit RGB, or a header-only bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(rows) if rows is not None else zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def load_bytes(blob: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> DecodedImage:
    return load_image({"Bytes": blob}, limits)


# --- decoding -----------------------------------------------------------------------------------


def test_png_decodes_losslessly() -> None:
    image = load_bytes(encode(ASTRONAUT))
    assert image.format == "PNG"
    assert (image.width, image.height) == (512, 512)
    assert image.rgb.dtype == np.uint8 and image.rgb.shape == (512, 512, 3)
    np.testing.assert_array_equal(image.rgb, ASTRONAUT)
    assert image.orientation_correction is None
    assert image.exif_orientation == 1


def test_jpeg_decodes_close_to_the_original() -> None:
    image = load_bytes(encode(ASTRONAUT, "JPEG", quality=95))
    assert image.format == "JPEG"
    assert image.rgb.shape == (512, 512, 3)
    assert np.abs(image.rgb.astype(int) - ASTRONAUT).mean() < 3


def test_pixels_are_read_only_and_shared_helpers_agree_with_pillow() -> None:
    image = load_bytes(encode(ASTRONAUT))
    with pytest.raises(ValueError):
        image.rgb[0, 0, 0] = 1
    expected_grey = np.asarray(Image.fromarray(ASTRONAUT).convert("L"))
    np.testing.assert_array_equal(image.grey, expected_grey)
    assert image.grey is image.grey  # computed once
    with pytest.raises(ValueError):
        image.grey[0, 0] = 1
    np.testing.assert_array_equal(np.asarray(image.to_pil()), ASTRONAUT)


def test_format_comes_from_content_not_from_the_object_name() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="photos")
        s3.put_object(Bucket="photos", Key="really-a-jpeg.png", Body=encode(ASTRONAUT, "JPEG"))
        image = load_image({"S3Object": {"Bucket": "photos", "Name": "really-a-jpeg.png"}}, s3_client=s3)
    assert image.format == "JPEG"


def test_rgba_png_keeps_the_stored_colour_and_drops_alpha() -> None:
    rgba = np.dstack([ASTRONAUT, np.linspace(0, 255, 512 * 512).reshape(512, 512).astype(np.uint8)])
    image = load_bytes(encode(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_array_equal(image.rgb, ASTRONAUT)


def test_palette_png_with_and_without_transparency() -> None:
    palette = Image.fromarray(ASTRONAUT).quantize(64)
    expected = np.asarray(palette.convert("RGB"))
    np.testing.assert_array_equal(load_bytes(encode(palette)).rgb, expected)

    palette.info["transparency"] = 0
    transparent = encode(palette, transparency=0)
    assert Image.open(io.BytesIO(transparent)).info.get("transparency") is not None
    np.testing.assert_array_equal(load_bytes(transparent).rgb, expected)


def test_greyscale_and_bilevel_pngs_become_three_equal_channels() -> None:
    camera = data.camera()  # 512 x 512 greyscale
    for image in (
        Image.fromarray(camera, "L"),
        Image.fromarray(np.dstack([camera, camera]), "LA"),
    ):
        decoded = load_bytes(encode(image))
        for channel in range(3):
            np.testing.assert_array_equal(decoded.rgb[..., channel], camera)
    bilevel = load_bytes(encode(Image.fromarray(camera > 128)))
    np.testing.assert_array_equal(bilevel.rgb[..., 0], np.where(camera > 128, 255, 0))


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    camera = data.camera().astype(np.uint16) * 257  # 0..65535
    blob = encode(Image.fromarray(camera))
    assert Image.open(io.BytesIO(blob)).mode.startswith("I;16")
    decoded = load_bytes(blob)
    np.testing.assert_array_equal(decoded.rgb[..., 1], data.camera())


def test_sixteen_bit_rgb_png() -> None:
    height, width = 90, 100
    wide = (ASTRONAUT[:height, :width].astype(">u2") * 257).astype(">u2")
    rows = b"".join(b"\0" + wide[y].tobytes() for y in range(height))
    decoded = load_bytes(raw_png(width, height, 16, 2, rows))
    np.testing.assert_array_equal(decoded.rgb, ASTRONAUT[:height, :width])


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (120, 100), (0, 255, 0, 0))  # magenta ink
    decoded = load_bytes(encode(cmyk, "JPEG", quality=95))
    assert decoded.rgb.shape == (100, 120, 3)
    r, g, b = decoded.rgb[50, 60]
    assert r > 240 and g < 15 and b > 240


def test_greyscale_jpeg() -> None:
    decoded = load_bytes(encode(Image.fromarray(data.camera(), "L"), "JPEG", quality=95))
    assert decoded.rgb.shape == (512, 512, 3)
    np.testing.assert_array_equal(decoded.rgb[..., 0], decoded.rgb[..., 2])


# --- unsupported and broken data ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP", "TIFF"])
def test_other_formats_are_invalid_image_format(fmt: str) -> None:
    with pytest.raises(InvalidImageFormatException, match="Request has invalid image format"):
        load_bytes(encode(ASTRONAUT, fmt))


@pytest.mark.parametrize(
    "blob",
    [
        pytest.param(np.random.default_rng(7).bytes(20_000), id="random-bytes"),
        pytest.param(b"\xff\xd8\xff" + np.random.default_rng(8).bytes(20_000), id="jpeg-magic-then-garbage"),
        pytest.param(encode(ASTRONAUT, "JPEG")[: len(encode(ASTRONAUT, "JPEG")) // 2], id="truncated-jpeg"),
        pytest.param(encode(ASTRONAUT, "JPEG")[:600], id="jpeg-header-only"),
        pytest.param(encode(ASTRONAUT)[: len(encode(ASTRONAUT)) // 2], id="truncated-png"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, id="png-magic-then-zeros"),
        pytest.param(b"\xff\xd8\xff", id="jpeg-magic-only"),
    ],
)
def test_corrupt_data_is_invalid_image_format(blob: bytes) -> None:
    with pytest.raises(InvalidImageFormatException, match="Request has invalid image format"):
        load_bytes(blob)


def test_corrupt_jpeg_header() -> None:
    blob = bytearray(encode(ASTRONAUT, "JPEG"))
    start_of_frame = blob.index(b"\xff\xc0")
    blob[start_of_frame + 4 : start_of_frame + 12] = b"\xff" * 8  # precision, size, components
    with pytest.raises(InvalidImageFormatException):
        load_bytes(bytes(blob))


def test_png_with_a_bad_checksum() -> None:
    blob = bytearray(encode(ASTRONAUT))
    blob[29] ^= 0xFF  # IHDR's CRC
    with pytest.raises(InvalidImageFormatException):
        load_bytes(bytes(blob))


def test_empty_bytes() -> None:
    with pytest.raises(InvalidImageFormatException):
        load_bytes(b"")


# --- size and resolution ------------------------------------------------------------------------


def test_bytes_over_five_megabytes_are_too_large() -> None:
    blob = b"\xff\xd8\xff" + b"\0" * (5 * MB)
    with pytest.raises(ImageTooLargeException):
        load_bytes(blob)
    # Exactly 5 MB passes the size check and fails only as the garbage it is.
    with pytest.raises(InvalidImageFormatException):
        load_bytes(blob[: 5 * MB])


def test_protective_equipment_limits() -> None:
    limits = limits_for("DetectProtectiveEquipment")
    assert (limits.max_bytes, limits.min_side, limits.max_side) == (4 * MB, 64, 4096)
    with pytest.raises(ImageTooLargeException):
        load_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (4 * MB), limits)
    with pytest.raises(ImageTooLargeException, match="Input image dimensions 4097 x 64 exceed maximum dimension"):
        load_bytes(encode(np.zeros((64, 4097, 3), np.uint8)), limits)
    assert load_bytes(encode(np.zeros((64, 4096, 3), np.uint8)), limits).width == 4096
    with pytest.raises(InvalidParameterException):
        load_bytes(encode(np.zeros((63, 100, 3), np.uint8)), limits)
    assert limits_for("DetectFaces") == DEFAULT_LIMITS
    assert limits_for("DetectLabels").max_side == 10_000


def test_decompression_bomb_png_is_refused_from_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    bomb = raw_png(30_000, 30_000, 8, 2, None)  # 900 Mpx, 2.7 GB of RGB, in a few dozen bytes
    assert len(bomb) < 200
    with pytest.raises(ImageTooLargeException, match="30000 x 30000"):
        load_bytes(bomb)
    # Under Pillow's own DecompressionBombError threshold but over ours.
    with pytest.raises(ImageTooLargeException):
        load_bytes(raw_png(12_000, 10_000, 8, 2, None))


def test_decompression_bomb_jpeg_is_refused_from_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", lambda self: pytest.fail("pixels were decoded"))
    blob = bytearray(encode(np.zeros((100, 100, 3), np.uint8), "JPEG"))
    start_of_frame = blob.index(b"\xff\xc0")
    blob[start_of_frame + 5 : start_of_frame + 9] = struct.pack(">HH", 60_000, 60_000)
    with pytest.raises(ImageTooLargeException):
        load_bytes(bytes(blob))


def test_pillow_global_limit_is_left_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooLargeException):
        load_bytes(raw_png(30_000, 30_000, 8, 2, None))
    assert before == Image.MAX_IMAGE_PIXELS


def test_custom_pixel_limit() -> None:
    with pytest.raises(ImageTooLargeException):
        load_bytes(encode(ASTRONAUT), ImageLimits(max_pixels=512 * 511))
    assert load_bytes(encode(ASTRONAUT), ImageLimits(max_pixels=512 * 512)).width == 512


@pytest.mark.parametrize("shape", [(79, 200), (200, 79), (10, 10)])
def test_too_small_is_invalid_parameter(shape: tuple[int, int]) -> None:
    with pytest.raises(InvalidParameterException, match="Request has invalid parameters"):
        load_bytes(encode(np.zeros((*shape, 3), np.uint8)))


def test_minimum_size_is_accepted() -> None:
    assert load_bytes(encode(np.zeros((80, 80, 3), np.uint8), "JPEG")).height == 80


# --- EXIF orientation ---------------------------------------------------------------------------


def marked_jpeg(orientation: int | None, fmt: str = "JPEG") -> bytes:
    """120 x 90 white, with a red 16 x 16 marker in the stored top-left corner."""
    pixels = np.full((90, 120, 3), 255, np.uint8)
    pixels[:16, :16] = RED
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    options = {"quality": 95} if fmt == "JPEG" else {}
    return encode(Image.fromarray(pixels), fmt, exif=exif, **options)


def red_corner(rgb: np.ndarray) -> str:
    corners = {
        "top-left": rgb[:8, :8],
        "top-right": rgb[:8, -8:],
        "bottom-left": rgb[-8:, :8],
        "bottom-right": rgb[-8:, -8:],
    }
    reds = [name for name, patch in corners.items() if patch[..., 0].mean() > 200 and patch[..., 1].mean() < 60]
    assert len(reds) == 1, reds
    return reds[0]


@pytest.mark.parametrize(
    ("orientation", "corner", "size"),
    [
        (None, "top-left", (120, 90)),
        (1, "top-left", (120, 90)),
        (3, "bottom-right", (120, 90)),  # rotated 180
        (6, "top-right", (90, 120)),  # camera turned clockwise: the image is turned 90 degrees clockwise
        (8, "bottom-left", (90, 120)),  # and the other way
    ],
)
def test_exif_orientation_moves_the_pixels(orientation: int | None, corner: str, size: tuple[int, int]) -> None:
    image = load_bytes(marked_jpeg(orientation))
    assert (image.width, image.height) == size
    assert red_corner(image.rgb) == corner
    assert image.exif_orientation == (orientation or 1)
    assert image.orientation_correction is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(orientation: int) -> None:
    blob = marked_jpeg(orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGB"))
    np.testing.assert_array_equal(load_bytes(blob).rgb, expected)


def test_png_is_not_rotated_even_with_an_exif_chunk() -> None:
    blob = marked_jpeg(6, "PNG")
    assert Image.open(io.BytesIO(blob)).getexif().get(0x0112) == 6
    image = load_bytes(blob)
    assert (image.width, image.height) == (120, 90)
    assert red_corner(image.rgb) == "top-left"
    assert image.exif_orientation == 1


def test_unknown_orientation_value_is_ignored() -> None:
    image = load_bytes(marked_jpeg(9))
    assert red_corner(image.rgb) == "top-left"
    assert image.exif_orientation == 1


# --- the Image member ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        {},
        {"Bytes": encode(ASTRONAUT), "S3Object": {"Bucket": "photos", "Name": "a.png"}},
    ],
)
def test_exactly_one_source(image: dict) -> None:
    with pytest.raises(InvalidParameterException, match="SourceImage"):
        load_image(image, member="SourceImage")


def test_not_an_object() -> None:
    with pytest.raises(InvalidParameterException):
        load_image("a.png")  # type: ignore[arg-type]


# --- S3Object -----------------------------------------------------------------------------------


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        client.put_object(Bucket="photos", Key="astronaut.png", Body=encode(ASTRONAUT))
        yield client


def test_s3_object(s3) -> None:
    image = load_image({"S3Object": {"Bucket": "photos", "Name": "astronaut.png"}}, s3_client=s3)
    np.testing.assert_array_equal(image.rgb, ASTRONAUT)


def test_s3_object_with_the_default_client(s3, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    image = load_image({"S3Object": {"Bucket": "photos", "Name": "astronaut.png"}})
    assert image.format == "PNG"


@pytest.mark.parametrize(
    "s3_object",
    [
        {"Bucket": "no-such-bucket", "Name": "astronaut.png"},
        {"Bucket": "photos", "Name": "no-such-key.png"},
        {"Bucket": "photos", "Name": "astronaut.png", "Version": "no-such-version"},
        {"Bucket": "photos"},
    ],
)
def test_unreachable_s3_object(s3, s3_object: dict) -> None:
    with pytest.raises(InvalidS3ObjectException, match=r"Unable to get object metadata from S3\. Check object key"):
        load_image({"S3Object": s3_object}, s3_client=s3)


def test_s3_object_version(s3) -> None:
    s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="photos", Key="v.png", Body=encode(ASTRONAUT[:100, :120]))["VersionId"]
    s3.put_object(Bucket="photos", Key="v.png", Body=encode(ASTRONAUT[:200, :90]))
    old = load_image({"S3Object": {"Bucket": "photos", "Name": "v.png", "Version": first}}, s3_client=s3)
    new = load_image({"S3Object": {"Bucket": "photos", "Name": "v.png"}}, s3_client=s3)
    assert (old.width, old.height) == (120, 100)
    assert (new.width, new.height) == (90, 200)


def test_s3_object_over_fifteen_megabytes(s3) -> None:
    s3.put_object(Bucket="photos", Key="huge.jpg", Body=b"\xff\xd8\xff" + b"\0" * (15 * MB - 2))
    with pytest.raises(ImageTooLargeException):
        load_image({"S3Object": {"Bucket": "photos", "Name": "huge.jpg"}}, s3_client=s3)


class _Body:
    def __init__(self, payload: bytes) -> None:
        self.payload, self.requested, self.closed = payload, None, False

    def read(self, amount: int | None = None) -> bytes:
        self.requested = amount
        return self.payload[:amount]

    def close(self) -> None:
        self.closed = True


class _LyingS3:
    """An S3 whose ContentLength is missing: only the bounded read stands between it and memory."""

    def __init__(self, payload: bytes) -> None:
        self.body = _Body(payload)

    def get_object(self, **request) -> dict:
        return {"Body": self.body}


def test_s3_body_is_read_at_most_one_byte_past_the_limit() -> None:
    client = _LyingS3(encode(ASTRONAUT))
    limits = ImageLimits(max_s3_bytes=1000)
    with pytest.raises(ImageTooLargeException):
        load_image({"S3Object": {"Bucket": "photos", "Name": "a.png"}}, limits, s3_client=client)
    assert client.body.requested == 1001
    assert client.body.closed


def test_s3_content_length_refuses_before_reading(s3) -> None:
    limits = ImageLimits(max_s3_bytes=1000)
    with pytest.raises(ImageTooLargeException, match="exceeds the maximum of 1000 bytes"):
        load_image({"S3Object": {"Bucket": "photos", "Name": "astronaut.png"}}, limits, s3_client=s3)
