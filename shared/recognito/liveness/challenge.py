"""The challenge: what the server asks of the client (``ServerSessionInformationEvent``) and what
the client reports it showed and saw (``ClientSessionInformationEvent``).

FaceMovementAndLightChallenge 2.0.0: the client shows an oval (``OvalParameters``, in the video's
pixels), the user moves closer until the face fills it, then the screen flashes
``ColorSequences`` in order (each colour scrolls down over ``DownscrollDuration`` ms or stays
``FlatDisplayDuration`` ms). FaceMovementChallenge 1.0.0 is the movement alone. The oval's place
and size and the colours are drawn anew for every session, so a recording of one session does not
answer another. ``ChallengeConfig`` holds the thresholds the client's own face checks use; the
values are the ones AWS's service sends (Amplify UI's test fixtures record them).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from recognito.errors import ValidationException

LIGHT, MOVEMENT = "FaceMovementAndLightChallenge", "FaceMovementChallenge"
VERSIONS = {LIGHT: "2.0.0", MOVEMENT: "1.0.0"}
_CLIENT_VERSIONS = re.compile(r"^([a-zA-Z]{10,}_\d+\.\d+\.\d+)(,[a-zA-Z]{10,}_\d+\.\d+\.\d+)*$")

OVAL_HEIGHT_WIDTH_RATIO = 1.618
CHALLENGE_CONFIG = {
    "BlazeFaceDetectionThreshold": 0.75,
    "FaceDistanceThreshold": 0.32,
    "FaceDistanceThresholdMax": 0.0,
    "FaceDistanceThresholdMin": 0.32,
    "FaceIouHeightThreshold": 0.15,
    "FaceIouWidthThreshold": 0.15,
    "OvalFitTimeout": 30000,
    "OvalHeightWidthRatio": OVAL_HEIGHT_WIDTH_RATIO,
    "OvalIouHeightThreshold": 0.25,
    "OvalIouThreshold": 0.55,
    "OvalIouWidthThreshold": 0.25,
}
# Saturated colours whose reflections differ most on skin; consecutive colours always differ.
PALETTE = ((255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255))
FLASHES = 7
FLASH_MS = 475.0
LEAD_IN = ((0, 0, 0), 75.0)  # black, shown flat before the first flash


@dataclass(frozen=True)
class Oval:
    center_x: float
    center_y: float
    width: float
    height: float

    def box(self) -> tuple[float, float, float, float]:
        """x1, y1, x2, y2 of the oval's bounding box, in video pixels."""
        return (
            self.center_x - self.width / 2,
            self.center_y - self.height / 2,
            self.center_x + self.width / 2,
            self.center_y + self.height / 2,
        )


@dataclass(frozen=True)
class ServerChallenge:
    type: str
    version: str
    oval: Oval
    colors: tuple[tuple[int, int, int], ...] = ()  # in the order flashed, the black lead-in first
    durations: tuple[tuple[float, float], ...] = ()  # (DownscrollDuration, FlatDisplayDuration) ms

    def event(self) -> dict[str, Any]:
        """The ``ServerSessionInformationEvent`` body."""
        body: dict[str, Any] = {
            "OvalParameters": {
                "Width": self.oval.width,
                "Height": self.oval.height,
                "CenterX": self.oval.center_x,
                "CenterY": self.oval.center_y,
            },
            "ChallengeConfig": dict(CHALLENGE_CONFIG),
        }
        if self.type == LIGHT:
            body["LightChallengeType"] = "SEQUENTIAL"
            body["ColorSequences"] = [
                {"FreshnessColor": {"RGB": list(rgb)}, "DownscrollDuration": down, "FlatDisplayDuration": flat}
                for rgb, (down, flat) in zip(self.colors, self.durations, strict=True)
            ]
        return {"SessionInformation": {"Challenge": {self.type: body}}}

    def stored(self) -> dict[str, Any]:
        """What the session record keeps of it (JSON)."""
        return {
            "Type": self.type,
            "Version": self.version,
            "Oval": [self.oval.center_x, self.oval.center_y, self.oval.width, self.oval.height],
            "Colors": [list(c) for c in self.colors],
        }


def choose(accepted: tuple[tuple[str, str], ...], client_versions: str) -> tuple[str, str]:
    """The first challenge the session accepts that the client says it can do."""
    if not _CLIENT_VERSIONS.match(client_versions or ""):
        raise ValidationException("challenge-versions must list <ChallengeType>_<x.y.z>, comma separated.")
    offered = set(client_versions.split(","))
    for kind, version in accepted:
        if f"{kind}_{version}" in offered:
            return kind, version
    wanted = ", ".join(f"{kind}_{version}" for kind, version in accepted)
    raise ValidationException(f"The client supports none of this session's challenges ({wanted}).")


def draw(kind: str, version: str, width: int, height: int) -> ServerChallenge:
    """A new challenge for a ``width`` x ``height`` video: the oval's place and the colours at random."""
    rng = secrets.SystemRandom()
    oval_width = min(width * rng.uniform(0.42, 0.5), height * 0.95 / OVAL_HEIGHT_WIDTH_RATIO)
    oval_height = oval_width * OVAL_HEIGHT_WIDTH_RATIO
    slack_x, slack_y = (width - oval_width) / 2, (height - oval_height) / 2
    oval = Oval(
        center_x=round(width / 2 + rng.uniform(-0.25, 0.25) * slack_x, 1),
        center_y=round(height / 2 + rng.uniform(-0.25, 0.25) * slack_y, 1),
        width=round(oval_width, 1),
        height=round(oval_height, 1),
    )
    if kind != LIGHT:
        return ServerChallenge(kind, version, oval)
    colors = [LEAD_IN[0]]
    for _ in range(FLASHES):
        colors.append(rng.choice([c for c in PALETTE if c != colors[-1]]))
    durations = [(0.0, LEAD_IN[1])] + [(FLASH_MS, 0.0)] * FLASHES
    return ServerChallenge(kind, version, oval, tuple(colors), tuple(durations))


def restore(stored: dict[str, Any]) -> ServerChallenge:
    x, y, w, h = stored["Oval"]
    colors = tuple(tuple(c) for c in stored.get("Colors", ()))
    durations = ((0.0, LEAD_IN[1]),) + ((FLASH_MS, 0.0),) * (len(colors) - 1) if colors else ()
    return ServerChallenge(stored["Type"], stored["Version"], Oval(x, y, w, h), colors, durations)  # type: ignore[arg-type]


@dataclass
class ClientReport:
    """What the client's ``ClientSessionInformationEvent``s said, merged (epoch milliseconds)."""

    video_start: float | None = None
    video_end: float | None = None
    initial_face: dict[str, float] | None = None  # BoundingBox, fractions of the video
    target_face: dict[str, float] | None = None
    colors: dict[int, tuple[tuple[int, int, int], float]] = field(default_factory=dict)  # seq -> (RGB, start)

    def add(self, body: dict[str, Any], kind: str) -> None:
        challenge = (body.get("Challenge") or {}).get(kind)
        if not isinstance(challenge, dict):
            raise ValidationException(f"ClientSessionInformationEvent must carry Challenge.{kind}.")
        try:
            if "VideoStartTimestamp" in challenge:
                self.video_start = float(challenge["VideoStartTimestamp"])
            if "VideoEndTimestamp" in challenge:
                self.video_end = float(challenge["VideoEndTimestamp"])
            if "InitialFace" in challenge:
                self.initial_face = challenge["InitialFace"].get("BoundingBox")
            if "TargetFace" in challenge:
                self.target_face = challenge["TargetFace"].get("BoundingBox")
            shown = challenge.get("ColorDisplayed")
            if shown:
                rgb = tuple(int(v) for v in shown["CurrentColor"]["RGB"])
                self.colors[int(shown["SequenceNumber"])] = (rgb, float(shown["CurrentColorStartTimestamp"]))  # type: ignore[assignment]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValidationException("ClientSessionInformationEvent is malformed.") from None

    def color_times(self, challenge: ServerChallenge) -> list[tuple[tuple[int, int, int], float]]:
        """Each colour the server asked for, with when the client says it began showing it (ms from
        the video's start), in order. A colour the client reports differently from what was asked
        is a client that did not run this challenge."""
        if self.video_start is None:
            raise ValidationException("ClientSessionInformationEvent never gave VideoStartTimestamp.")
        shown = []
        for sequence, asked in enumerate(challenge.colors):
            if sequence not in self.colors:
                continue
            rgb, start = self.colors[sequence]
            if rgb != asked:
                raise ValidationException(f"Colour {sequence} reported as {list(rgb)}, but {list(asked)} was asked.")
            shown.append((rgb, start - self.video_start))
        return shown
