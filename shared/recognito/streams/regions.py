"""RegionsOfInterest: which findings a processor reports, by where they are in the frame."""

from __future__ import annotations

from typing import Any


def in_regions(box: dict[str, float] | None, regions: list[dict[str, Any]]) -> bool:
    """No regions: everything counts. Else the finding's centre must lie in a region's box or
    polygon; a finding without a box (a whole-frame label) counts only without regions."""
    if not regions:
        return True
    if box is None:
        return False
    x, y = box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2
    return any(_contains(region, x, y) for region in regions)


def _contains(region: dict[str, Any], x: float, y: float) -> bool:
    box = region.get("BoundingBox")
    if box is not None:
        return box["Left"] <= x <= box["Left"] + box["Width"] and box["Top"] <= y <= box["Top"] + box["Height"]
    points = [(p["X"], p["Y"]) for p in region.get("Polygon") or []]
    inside = False  # even-odd rule
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
