"""Collections larger than one function's memory: shards by face id, searched in parallel.

At about 1.9 KB per face in memory, one 10 GB Lambda holds about 4M faces with room to load a
snapshot; Rekognition allows 20 million faces per collection. Such a collection is split into
``S`` shards by a stable hash of the face id (``shard_of``), each shard an ordinary FaceIndex with
its own snapshot (collection id ``{id}#shard{k}``) fed by the changes of its own faces. A search
invokes one search function per shard in parallel (a Lambda fan-out: each answers its top
``max_faces`` above the threshold from its warm index) and merges them (``merge_results``); since
every shard returns its own exact-re-ranked top ``max_faces``, the merged top ``max_faces`` equals
what one index over all faces would return. Latency is the slowest shard plus one invoke (tens of
ms), and shards stay warm independently. See shared/recognito/search/README.md.

A plan, not deployed: nothing in the functions shards yet, so these two pieces live with their test
(tests/test_search_index.py) until the per-shard feed and fan-out are built, and then move there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def shard_of(face_id: str, shards: int) -> int:
    """The shard a face lives in: stable across processes and Python versions (not ``hash()``)."""
    digest = hashlib.blake2b(face_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def merge_results(results: Iterable[list[tuple[str, float]]], max_faces: int) -> list[tuple[str, float]]:
    """Merge per-shard (face_id, cosine) lists into the overall top ``max_faces``, best first.

    A face reported twice (a shard retried, or a face moving between shards mid-resharding) counts
    once, with its best score; ties break by face id so the order is deterministic."""
    best: dict[str, float] = {}
    for result in results:
        for face_id, score in result:
            if score > best.get(face_id, float("-inf")):
                best[face_id] = score
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))[: max(0, max_faces)]
