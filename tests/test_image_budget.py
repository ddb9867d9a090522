"""The pixel budget (ImageLimits.max_decode_pixels): huge images are decoded downscaled, cheaply,
and what the models find in them does not change."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from models_available import needs_models
from PIL import Image
from recognito.images import DEFAULT_LIMITS, ImageLimits, decode_image
from skimage import data


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_a_downscaled_image_is_the_box_average_of_the_whole_however_it_is_banded():
    tall = Image.fromarray(np.tile(data.astronaut(), (6, 1, 1))[:3000, :100])  # 100 x 3000: three bands
    limits = ImageLimits(max_decode_pixels=100 * 3000 // 4)

    decoded = decode_image(encode(tall), limits)

    np.testing.assert_array_equal(decoded.rgb, np.asarray(tall.reduce(2)))


def test_the_factor_is_the_smallest_that_fits():
    picture = Image.fromarray(data.astronaut()).resize((1000, 600))

    decoded = decode_image(encode(picture), ImageLimits(max_decode_pixels=100_000))

    assert decoded.rgb.shape == (200, 334, 3)  # factor 3: factor 2 would be 150,000 pixels


def test_a_large_jpeg_keeps_its_content():
    big = Image.fromarray(data.astronaut()).resize((8192, 8192), Image.Resampling.BICUBIC)

    decoded = decode_image(encode(big, "JPEG", quality=90))

    assert decoded.width * decoded.height <= DEFAULT_LIMITS.max_decode_pixels
    assert decoded.rgb.shape == (4096, 4096, 3)
    small = np.asarray(Image.fromarray(decoded.rgb).resize((512, 512), Image.Resampling.BOX), dtype=np.int16)
    assert np.abs(small - data.astronaut().astype(np.int16)).mean() < 6


def test_a_flat_10000_pixel_png_costs_a_fraction_of_its_rgb_size():
    """126 KB of PNG that is 300 MB of RGB: decoded in its own mode, converted a band at a time."""
    flat = Image.new("P", (10_000, 10_000), 3)
    flat.putpalette([value % 256 for value in range(768)])
    blob = encode(flat)
    del flat
    probe = (
        "import json, resource, sys\n"
        "from recognito.images import decode_image\n"
        "blob = sys.stdin.buffer.read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "decoded = decode_image(blob)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'shape': decoded.rgb.shape, 'pixel': decoded.rgb[7, 7].tolist(),\n"
        "                  'grown_mb': (after - before) / 1024}))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], input=blob, capture_output=True, check=True)
    result = json.loads(run.stdout)

    assert result["shape"] == [3334, 3334, 3]
    assert result["pixel"] == [9, 10, 11]  # palette entry 3
    assert result["grown_mb"] < 400  # the full decode at 10,000 x 10,000 took 1,050 MB


@pytest.mark.models
def test_faces_are_found_where_they_were_in_a_downscaled_photo():
    needs_models("centerface")
    from recognito.faces.detect import detect_faces

    def boxes(side: int) -> list[dict]:
        picture = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.BICUBIC)
        reply = detect_faces({"Image": {"Bytes": encode(picture, "JPEG", quality=92)}})
        return [face["BoundingBox"] for face in reply["FaceDetails"]]

    small, huge = boxes(512), boxes(9000)  # 81 MP: decoded at 1/4 (2250 x 2250)

    assert len(small) == len(huge) == 1
    for key in ("Left", "Top", "Width", "Height"):
        assert abs(small[0][key] - huge[0][key]) < 0.02
