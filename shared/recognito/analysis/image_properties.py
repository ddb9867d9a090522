"""DetectLabels' IMAGE_PROPERTIES: quality and dominant colours of the image, its foreground and background.

What AWS documents and its responses show, and what is computed here:

* ``Quality``: Brightness, Sharpness and Contrast, 0..100, for the whole image; Foreground and
  Background carry Brightness and Sharpness only (as AWS's responses do). Brightness is the mean
  luma; Contrast the spread between the 2nd and 98th luma percentiles; Sharpness the Laplacian's
  energy relative to the region's own contrast (so a dim sharp photo is not called blurry), mapped
  to 0..100 on a curve set on scikit-image's photographs and blurred copies of them.
* ``DominantColors``: k-means in CIELAB on a downsampled copy; each cluster centre is named by the
  nearest CSS colour (ΔE in CIELAB) and clusters with the same name merge. As in AWS's responses,
  Red/Green/Blue and HexCode are the CSS colour's (``#2f4f4f``, "darkslategrey"), SimplifiedColor
  is one of 12 names, PixelPercent the share of the region's pixels, and colours covering less than
  ``MIN_PERCENT`` of the region are left out. At most ``MaxDominantColors`` (default 10).
* Foreground: the boxes of the objects the detector found, when they are not (nearly) the whole
  frame; otherwise a boundary-contrast saliency map, thresholded. Background is the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ANALYSIS_SIDE = 384  # long side of the copy everything is measured on
MAX_COLOR_PIXELS = 4000  # pixels sampled per region for k-means
MIN_PERCENT = 5.0  # smallest PixelPercent reported
DEFAULT_MAX_COLORS = 10
MIN_CLUSTERS = 8
KMEANS_ITERATIONS = 12
FOREGROUND_MAX_COVER = 0.8  # boxes covering more than this say nothing of a foreground

# Sharpness = 100 * (1 - exp(-(energy - floor) / scale)): scikit-image's photographs measure
# 0.25-0.6 at ANALYSIS_SIDE, a Gaussian blur of 2 px ~0.12, of 4 px ~0.06.
_SHARPNESS_FLOOR = 0.04
_SHARPNESS_SCALE = 0.15

_DATA = Path(__file__).resolve().parent.parent / "data" / "css_colors.json"


@dataclass(frozen=True)
class _Palette:
    names: list[str]
    rgb: np.ndarray  # (n, 3) uint8
    lab: np.ndarray  # (n, 3)
    simplified: list[str]


@cache
def _palette() -> _Palette:
    colors = json.loads(_DATA.read_text())["colors"]
    names = sorted(colors)
    rgb = np.array([[int(colors[n]["hex"][i : i + 2], 16) for i in (1, 3, 5)] for n in names], dtype=np.uint8)
    return _Palette(names, rgb, _lab(rgb.astype(np.float64)), [colors[n]["simplified"] for n in names])


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..255 (..., 3) -> CIELAB (D65)."""
    c = rgb / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1)


@dataclass(frozen=True)
class AnalysisImage:
    """The downsampled copy that colours and quality are measured on, with its luma and CIELAB."""

    rgb: np.ndarray  # h x w x 3 uint8
    luma: np.ndarray  # h x w float32 0..255
    lab: np.ndarray  # h x w x 3 float32
    laplacian: np.ndarray  # h x w float32 (zero on the border)
    scale: float  # analysis px per original px


def analysis_image(rgb: np.ndarray) -> AnalysisImage:
    height, width = rgb.shape[:2]
    scale = min(1.0, ANALYSIS_SIDE / max(width, height))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR, reducing_gap=2.0))
    else:
        small = np.asarray(rgb)
    f = small.astype(np.float32)
    luma = f @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lap = np.zeros_like(luma)
    lap[1:-1, 1:-1] = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4.0 * luma[1:-1, 1:-1]
    return AnalysisImage(small, luma, _lab(f.astype(np.float64)).astype(np.float32), lap, scale)


# ------------------------------------------------------------------------------------------ quality
def quality(image: AnalysisImage, mask: np.ndarray | None = None, contrast: bool = True) -> dict[str, float]:
    """Brightness, Sharpness (and Contrast) 0..100 of the pixels under ``mask`` (all if None)."""
    luma = image.luma if mask is None else image.luma[mask]
    lap = image.laplacian[1:-1, 1:-1] if mask is None else image.laplacian[mask & _inner(mask.shape)]
    if luma.size == 0:
        luma = image.luma.ravel()
    result = {"Brightness": float(luma.mean() / 255.0 * 100.0)}
    energy = float(lap.std() / (luma.std() + 8.0)) if lap.size else 0.0
    excess = max(0.0, energy - _SHARPNESS_FLOOR)
    result["Sharpness"] = float(100.0 * (1.0 - np.exp(-excess / _SHARPNESS_SCALE)))
    if contrast:
        lo, hi = np.percentile(luma, [2.0, 98.0])
        result["Contrast"] = float((hi - lo) / 255.0 * 100.0)
    return result


@cache
def _inner_cached(shape: tuple[int, int]) -> np.ndarray:
    inner = np.zeros(shape, dtype=bool)
    inner[1:-1, 1:-1] = True
    return inner


def _inner(shape: tuple[int, ...]) -> np.ndarray:
    return _inner_cached((int(shape[0]), int(shape[1])))


# ------------------------------------------------------------------------------------------ colours
def _kmeans(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (k', 3) and labels (n,) of ``points`` (n, 3); seeded k-means++ so a given image
    always gives the same colours."""
    rng = np.random.default_rng(0)
    k = min(k, len(points))
    centres = [points[rng.integers(len(points))]]
    d2 = ((points - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:
            break
        centres.append(points[rng.choice(len(points), p=d2 / total)])
        d2 = np.minimum(d2, ((points - centres[-1]) ** 2).sum(1))
    c = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    norms = (points**2).sum(1)[:, None]
    for _ in range(KMEANS_ITERATIONS):
        labels = (norms - 2.0 * points @ c.T + (c**2).sum(1)[None, :]).argmin(1)
        counts = np.bincount(labels, minlength=len(c))
        sums = np.stack([np.bincount(labels, weights=points[:, d], minlength=len(c)) for d in range(3)], 1)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
        done = np.allclose(moved, c, atol=0.5)
        c = moved
        if done:
            break
    return c, labels


def dominant_colors(image: AnalysisImage, mask: np.ndarray | None = None, max_colors: int = DEFAULT_MAX_COLORS) -> list:
    """DominantColors of the pixels under ``mask``: CSS-named, largest first."""
    if max_colors <= 0:
        return []
    lab = image.lab.reshape(-1, 3) if mask is None else image.lab[mask]
    if len(lab) == 0:
        return []
    step = max(1, len(lab) // MAX_COLOR_PIXELS)
    points = lab[::step].astype(np.float64)
    centres, labels = _kmeans(points, max(MIN_CLUSTERS, max_colors))
    palette = _palette()
    nearest = ((centres[:, None, :] - palette.lab[None, :, :]) ** 2).sum(-1).argmin(1)
    counts = np.bincount(nearest[labels], minlength=len(palette.names)).astype(np.float64)
    percent = counts / len(points) * 100.0
    order = [int(i) for i in np.argsort(-percent, kind="stable") if percent[i] >= MIN_PERCENT][:max_colors]
    out = []
    for i in order:
        r, g, b = (int(v) for v in palette.rgb[i])
        out.append(
            {
                "Red": r,
                "Blue": b,
                "Green": g,
                "HexCode": f"#{r:02x}{g:02x}{b:02x}",
                "CSSColor": palette.names[i],
                "SimplifiedColor": palette.simplified[i],
                "PixelPercent": float(percent[i]),
            }
        )
    return out


# --------------------------------------------------------------------------------------- foreground
def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    padded = np.pad(a, radius, mode="reflect")
    rows = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="valid"), 1, padded)
    return np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="valid"), 0, rows)


def saliency_mask(image: AnalysisImage) -> np.ndarray:
    """Boundary-contrast saliency: photographs rarely cut their subject at every edge, so the
    colours along the image's border stand for the background and a pixel is salient by its CIELAB
    distance to the nearest of them (the "boundary prior" of Wei et al., ECCV 2012, and the
    saliency methods after it). Computed on a 64 px copy, smoothed, thresholded by Otsu's method and
    scaled back to the analysis copy."""
    lab = np.asarray(
        [np.asarray(Image.fromarray(image.lab[..., c]).resize((64, 64), Image.BILINEAR), np.float64) for c in range(3)]
    ).transpose(1, 2, 0)
    edges = (lab[:3], lab[-3:], lab[:, :3], lab[:, -3:])
    ring = np.concatenate([e.reshape(-1, 3) for e in edges])
    border, _ = _kmeans(ring, 6)
    distance = np.sqrt(((lab[:, :, None, :] - border[None, None]) ** 2).sum(-1)).min(-1)
    saliency = _blur(distance, 1.5)
    mask = saliency > _otsu(saliency)
    height, width = image.luma.shape
    grown = Image.fromarray((mask * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    return np.asarray(grown) >= 128


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=64)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * centres)
    total, total_mean = weight[-1], mean[-1]
    between = (total_mean * weight / total - mean) ** 2 / np.maximum(weight * (total - weight), 1e-9)
    return float(centres[int(np.argmax(between[:-1]))])


def foreground_mask(image: AnalysisImage, boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """Boxes (x1, y1, x2, y2 in original pixels) of the objects found, else saliency."""
    height, width = image.luma.shape
    mask = np.zeros((height, width), dtype=bool)
    for x1, y1, x2, y2 in boxes:
        s = image.scale
        mask[int(y1 * s) : int(np.ceil(y2 * s)), int(x1 * s) : int(np.ceil(x2 * s))] = True
    cover = mask.mean()
    if cover == 0 or cover > FOREGROUND_MAX_COVER:
        mask = saliency_mask(image)
    return mask


def box_mask(image: AnalysisImage, box: Sequence[float]) -> np.ndarray:
    height, width = image.luma.shape
    s = image.scale
    x1, y1, x2, y2 = box
    mask = np.zeros((height, width), dtype=bool)
    top, left = int(y1 * s), int(x1 * s)
    mask[top : max(top + 1, int(np.ceil(y2 * s))), left : max(left + 1, int(np.ceil(x2 * s)))] = True
    return mask


def image_properties(
    image: AnalysisImage, foreground_boxes: Sequence[Sequence[float]], max_colors: int = DEFAULT_MAX_COLORS
) -> dict[str, Any]:
    """The response's ``ImageProperties``."""
    fg = foreground_mask(image, foreground_boxes)
    bg = ~fg
    result: dict[str, Any] = {
        "Quality": quality(image),
        "DominantColors": dominant_colors(image, None, max_colors),
        "Foreground": {
            "Quality": quality(image, fg, contrast=False),
            "DominantColors": dominant_colors(image, fg, max_colors),
        },
    }
    if bg.any():
        result["Background"] = {
            "Quality": quality(image, bg, contrast=False),
            "DominantColors": dominant_colors(image, bg, max_colors),
        }
    return result
