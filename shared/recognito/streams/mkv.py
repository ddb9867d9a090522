"""Just enough Matroska (EBML) for Kinesis Video's media: split a stream into fragments, read and
write the tags Kinesis Video puts in GetMedia's output.

A Kinesis video stream is MKV. A producer's PutMedia body is one MKV stream (EBML header,
Segment, Info, Tracks, then Clusters), each Cluster a fragment; GetMedia answers with one
self-contained MKV per fragment (EBML header, Segment, Info, Tracks, Tags naming the fragment,
the Cluster), so a consumer can decode each one alone. Decoding the pictures is PyAV's
(recognito.streams.reader); this module only moves elements around, never looks inside blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
INFO = 0x1549A966
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
CUES = 0x1C53BB6B
TAGS = 0x1254C367
CHAPTERS = 0x1043A770
ATTACHMENTS = 0x1941A469
TIMECODE = 0xE7
TIMECODE_SCALE = 0x2AD7B1
TAG = 0x7373
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487
# Where an unknown-size Cluster ends: at the next element of the Segment's level, or a new stream.
_LEVEL_ONE = frozenset({EBML, SEGMENT, SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, TAGS, CHAPTERS, ATTACHMENTS})
UNKNOWN_SIZE = -1
DEFAULT_TIMECODE_SCALE = 1_000_000  # ns per timecode unit: milliseconds

# The tags Kinesis Video adds to GetMedia's output (Kinesis Video Streams developer guide).
FRAGMENT_NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
SERVER_TIMESTAMP = "AWS_KINESISVIDEO_SERVER_TIMESTAMP"
PRODUCER_TIMESTAMP = "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"
CONTINUATION_TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
MILLIS_BEHIND_NOW = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"


class MkvError(ValueError):
    """The bytes are not Matroska as this reader understands it."""


@dataclass(frozen=True)
class Element:
    id: int
    data: bytes  # the whole element, header included

    @property
    def payload(self) -> bytes:
        _, start = _read_id(self.data, 0)
        _, start = _read_size(self.data, start)
        return self.data[start:]


def _read_id(data: bytes | bytearray, position: int) -> tuple[int, int]:
    """An element ID (marker bit kept, as IDs are written) and where its size starts."""
    if position >= len(data):
        raise IndexError
    first = data[position]
    length = 8 - first.bit_length() + 1
    if not 1 <= length <= 4:
        raise MkvError(f"invalid element ID at byte {position}")
    if position + length > len(data):
        raise IndexError
    return int.from_bytes(data[position : position + length], "big"), position + length


def _read_size(data: bytes | bytearray, position: int) -> tuple[int, int]:
    """A size (UNKNOWN_SIZE when all its value bits are set) and where the payload starts."""
    if position >= len(data):
        raise IndexError
    first = data[position]
    length = 8 - first.bit_length() + 1
    if not 1 <= length <= 8:
        raise MkvError(f"invalid element size at byte {position}")
    if position + length > len(data):
        raise IndexError
    value = int.from_bytes(data[position : position + length], "big") & ((1 << (7 * length)) - 1)
    return (UNKNOWN_SIZE if value == (1 << (7 * length)) - 1 else value), position + length


def encode_size(size: int) -> bytes:
    length = 1
    while size >= (1 << (7 * length)) - 1:
        length += 1
    return ((1 << (7 * length)) | size).to_bytes(length, "big")


def element(element_id: int, payload: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + encode_size(len(payload)) + payload


def children(payload: bytes) -> Iterator[Element]:
    """The elements of a master element's payload (known sizes only)."""
    position = 0
    while position < len(payload):
        element_id, start = _read_id(payload, position)
        size, start = _read_size(payload, start)
        if size == UNKNOWN_SIZE:
            raise MkvError("unknown size inside an element")
        yield Element(element_id, bytes(payload[position : start + size]))
        position = start + size


def unsigned(payload: bytes) -> int:
    return int.from_bytes(payload, "big") if payload else 0


class StreamParser:
    """Incremental: ``feed`` bytes as they arrive, get the complete elements of the stream's
    top levels (EBML headers, the Segment's children; a Segment is entered, never returned
    whole). A Cluster of unknown size, as live muxers write, is closed at the next top-level
    element or by ``close``, and returned with its size written in."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._open_cluster: bytearray | None = None

    def feed(self, data: bytes) -> list[Element]:
        self._buffer += data
        found: list[Element] = []
        while True:
            try:
                element_id, start = _read_id(self._buffer, 0)
                size, start = _read_size(self._buffer, start)
            except IndexError:
                return found
            if self._open_cluster is not None:
                if element_id not in _LEVEL_ONE:
                    if size == UNKNOWN_SIZE:
                        raise MkvError("unknown size inside a Cluster")
                    if len(self._buffer) < start + size:
                        return found
                    self._open_cluster += self._buffer[: start + size]
                    del self._buffer[: start + size]
                    continue
                found.append(self._close_cluster())
            if element_id == SEGMENT:  # entered: its children are what we return
                del self._buffer[:start]
                continue
            if size == UNKNOWN_SIZE:
                if element_id != CLUSTER:
                    raise MkvError(f"unknown size for element {element_id:#x}")
                self._open_cluster = bytearray()
                del self._buffer[:start]
                continue
            if len(self._buffer) < start + size:
                return found
            found.append(Element(element_id, bytes(self._buffer[: start + size])))
            del self._buffer[: start + size]

    def close(self) -> list[Element]:
        """What is complete at the end of the stream (an open Cluster); the rest was cut off."""
        return [self._close_cluster()] if self._open_cluster is not None else []

    @property
    def pending(self) -> int:
        return len(self._buffer) + len(self._open_cluster or b"")

    def _close_cluster(self) -> Element:
        payload, self._open_cluster = bytes(self._open_cluster or b""), None
        return Element(CLUSTER, element(CLUSTER, payload))


def cluster_timecode(cluster: Element) -> int:
    """The Cluster's Timecode, in the segment's timecode units."""
    for child in children(cluster.payload):
        if child.id == TIMECODE:
            return unsigned(child.payload)
    raise MkvError("a Cluster without a Timecode")


def timecode_scale(info: Element | None) -> int:
    if info is not None:
        for child in children(info.payload):
            if child.id == TIMECODE_SCALE:
                return unsigned(child.payload) or DEFAULT_TIMECODE_SCALE
    return DEFAULT_TIMECODE_SCALE


def tags(values: dict[str, str]) -> bytes:
    """A Tags element of SimpleTags (name, string), as Kinesis Video writes its own."""
    simple = b"".join(
        element(SIMPLE_TAG, element(TAG_NAME, name.encode()) + element(TAG_STRING, value.encode()))
        for name, value in values.items()
    )
    return element(TAGS, element(TAG, simple))


def tag_values(tags_element: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in children(tags_element.payload):
        if tag.id != TAG:
            continue
        for simple in children(tag.payload):
            if simple.id != SIMPLE_TAG:
                continue
            parts = {child.id: child.payload for child in children(simple.payload)}
            if TAG_NAME in parts:
                found[parts[TAG_NAME].decode(errors="replace")] = parts.get(TAG_STRING, b"").decode(errors="replace")
    return found


UNKNOWN_SIZE_SEGMENT = SEGMENT.to_bytes(4, "big") + b"\x01\xff\xff\xff\xff\xff\xff\xff"


def fragment_file(ebml_header: bytes, info: bytes, tracks: bytes, cluster: bytes, fragment_tags: bytes = b"") -> bytes:
    """One fragment as a self-contained MKV: what GetMedia sends, what a decoder can open alone."""
    return ebml_header + UNKNOWN_SIZE_SEGMENT + info + tracks + fragment_tags + cluster
