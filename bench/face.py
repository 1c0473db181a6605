"""Face detection and embedding latency, verifications per second on all cores, and the pool's overhead.

    .venv/bin/python bench/face.py [--seconds 4] [--rounds 3] [--repeat 8]

Prints, all measured now on this machine, on photos from shared/faces resized to 640 and 1280 px wide:
  1. latency per image on one core (cv2.setNumThreads(1)): detection (YuNet, both passes) and SFace
     embedding (alignment included), p50 and p99, at 640 and 1280 px wide;
  2. full verifications per second (detect and embed two 640 px photos, cosine) through
     FacePool(workers=cores): `verify` (with the quality checks, the service's path) and bare
     detect + embed (the same work as 3);
  3. the same detect + embed + cosine work calling OpenCV directly, in plain loops on the same cores:
     one thread per core with its own detector and networks, and one loop that leaves the cores to
     OpenCV's internal threads. Overhead = direct verifications/s / pool verifications/s (target <= 1.2).

  4. the cost of one whole answer (`service.face.verification.assess_answer`: quality of the document and
     the first frame, the active challenge on every frame, the match) for a genuine [turn_right, move_closer]
     answer of 3 real frames and a document, all at 640, 960 and 1280 px wide, on one worker, against the
     raw cost of a document + selfie pass (one YuNet pass and SFace per photo, OpenCV directly, one thread).
     Each the fastest of --repeat runs, alternating. Ratio = whole / raw (target <= 1.5).

Photos wider than the engine's 1280 px longer side are downscaled for detection, in both paths alike.
Other work on the machine shows up in the figures: run it on an idle machine to compare runs. This is a
benchmark, not a test: it asserts nothing and prints what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from service.face.verification import Assessment, assess_answer, judge
from verification.face.engine import COARSE_FACTOR, DEFAULT_MAX_SIDE, FaceEngine
from verification.face.images import ImageBGR, read_image
from verification.face.liveness import ChallengeAction
from verification.face.matching import DEFAULT_THRESHOLDS
from verification.face.models import LoadedModels, load_models
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "faces"
PHOTOS = ("obama.jpg", "obama4.jpg", "biden.jpg", "person_a_2.jpg", "person_b_1.jpg", "person_c_1.jpg")
PAIRS = [(a, b) for a in range(len(PHOTOS)) for b in range(len(PHOTOS)) if a < b]


def resized(image: ImageBGR, width: int) -> ImageBGR:
    height = round(image.shape[0] * width / image.shape[1])
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(image, (width, height), interpolation=interpolation), dtype=np.uint8)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency(models: LoadedModels, images: list[ImageBGR], repeat: int) -> None:
    cv2.setNumThreads(1)
    engine = FaceEngine(models)
    detect_ms: list[float] = []
    embed_ms: list[float] = []
    for image in images:
        (face,) = engine.detect(image)[:1]
        engine.embed(image, face)  # warm-up for this size
        for _ in range(repeat):
            start = time.perf_counter()
            engine.detect(image)
            middle = time.perf_counter()
            engine.embed(image, face)
            end = time.perf_counter()
            detect_ms.append((middle - start) * 1000)
            embed_ms.append((end - middle) * 1000)
    size = f"{images[0].shape[1]} px wide"
    for label, samples in (("detect", detect_ms), ("embed ", embed_ms)):
        print(
            f"  {size:>13}  {label}  p50 {percentile(samples, 50):6.1f} ms  p99 {percentile(samples, 99):6.1f} ms"
            f"  ({len(samples)} samples)"
        )


class DirectOpenCV:
    """The same steps as FaceEngine (both detection passes included), written out against OpenCV directly."""

    def __init__(self, models: LoadedModels) -> None:
        empty = np.empty(0, dtype=np.uint8)
        self.detectors = [
            cv2.FaceDetectorYN.create("onnx", models.detector, empty, (320, 320), 0.9, 0.3, 5000) for _ in range(2)
        ]
        self.sizes = [(320, 320), (320, 320)]
        self.aligner = cv2.FaceRecognizerSF.create("onnx", models.recognizer, empty)
        self.net = cv2.dnn.readNetFromONNX(models.recognizer)

    def detect(self, image: ImageBGR, index: int, scale: float) -> npt.NDArray[np.float32] | None:
        height, width = image.shape[:2]
        small = image
        if scale < 1.0:
            small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        size = (small.shape[1], small.shape[0])
        if size != self.sizes[index]:
            self.detectors[index].setInputSize(size)
            self.sizes[index] = size
        rows: npt.NDArray[np.float32] | None = self.detectors[index].detect(small)[1]  # type: ignore[assignment]
        return rows

    def embed(self, image: ImageBGR, coarse: bool = True) -> npt.NDArray[np.float32]:
        height, width = image.shape[:2]
        scale = min(1.0, DEFAULT_MAX_SIDE / max(height, width))
        rows = self.detect(image, 0, scale)
        if coarse:
            self.detect(image, 1, scale * COARSE_FACTOR)  # the engine runs its coarse pass too
        assert rows is not None
        row = rows[0].copy()
        row[:14] /= scale
        aligned = self.aligner.alignCrop(image, row)
        self.net.setInput(cv2.dnn.blobFromImage(aligned, 1.0, (112, 112), (0, 0, 0), True, False), "data")
        vector = np.asarray(self.net.forward(), dtype=np.float32).reshape(-1)
        normalized: npt.NDArray[np.float32] = vector / np.linalg.norm(vector)
        return normalized

    def verify(self, a: ImageBGR, b: ImageBGR) -> float:
        return float(self.embed(a) @ self.embed(b))


def run_threads(count: int, seconds: float, work: Callable[[int], Callable[[int], object]]) -> float:
    """Verifications/s from `count` plain threads, each looping over the pairs with its own state."""
    done = [0] * count
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        step = work(index)
        i = index
        while time.perf_counter() < deadline:
            step(i)
            i += 1
            done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - start)


async def run_pool(pool: FacePool, images: list[ImageBGR], seconds: float, full: bool) -> float:
    """Verifications/s through the pool, with 2 verifications in flight per worker."""
    done = 0
    deadline = time.perf_counter() + seconds

    def embed(engine: FaceEngine, image: ImageBGR) -> npt.NDArray[np.float32]:
        return engine.embed(image, engine.detect(image)[0])

    async def client(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            a, b = PAIRS[i % len(PAIRS)]
            if full:
                await pool.verify(images[a], images[b])
            else:
                first, second = await asyncio.gather(
                    pool.run(lambda engine, x=images[a]: embed(engine, x)),
                    pool.run(lambda engine, x=images[b]: embed(engine, x)),
                )
                float(first @ second)
            i += 1
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(2 * pool.workers)))
    return done / (time.perf_counter() - start)


ANSWER_ACTIONS = [ChallengeAction.TURN_RIGHT, ChallengeAction.MOVE_CLOSER]
ANSWER_DOCUMENT = "obama3.jpg"
ANSWER_FRAMES = [["obama.jpg", "obama2.jpg"], ["obama4.jpg"]]  # straight on, turned; closer (real photos)


def whole_answer_cost(models: LoadedModels, width: int, repeat: int) -> tuple[float, float, str]:
    """(ms of a whole answer on one worker, ms of the raw document + selfie pass on one thread, decision),
    each the fastest of `repeat` runs, the two alternating so that other work on the machine hits both."""
    document = resized(read_image(FACES / ANSWER_DOCUMENT), width)
    frames = [[resized(read_image(FACES / name), width) for name in action] for action in ANSWER_FRAMES]
    cv2.setNumThreads(1)
    pool = FacePool(workers=1, models=models)
    opencv = DirectOpenCV(models)
    selfie = frames[0][0]
    try:
        detector = ActiveChallengeDetector(pool)

        async def whole() -> Assessment:
            return await assess_answer(pool, detector, DEFAULT_THRESHOLDS, ANSWER_ACTIONS, document, frames)

        def raw() -> float:
            return float(opencv.embed(document, coarse=False) @ opencv.embed(selfie, coarse=False))

        assessed = asyncio.run(whole())  # warm-up: engines built, input sizes set
        raw()
        whole_ms, raw_ms = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            asyncio.run(whole())
            middle = time.perf_counter()
            raw()
            whole_ms.append((middle - start) * 1000)
            raw_ms.append((time.perf_counter() - middle) * 1000)
    finally:
        pool.close()
    outcome = assessed.outcome
    decision = "no decision" if outcome is None else judge(outcome, "margin").status
    return min(whole_ms), min(raw_ms), decision


def whole_answers(models: LoadedModels, repeat: int) -> None:
    print("4. one whole answer (3 frames + document, liveness included) vs raw document + selfie, one core, best:")
    for width in (640, 960, 1280):
        whole_ms, raw_ms, decision = whole_answer_cost(models, width, repeat)
        print(
            f"  {width:>5} px wide  whole {whole_ms:7.1f} ms  raw {raw_ms:7.1f} ms  ratio {whole_ms / raw_ms:4.2f}x"
            f"  (target <= 1.5; the answer is {decision})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0, help="per throughput measurement and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=8, help="latency samples per photo and size")
    parser.add_argument("--answers-only", action="store_true", help="measure only 4, the whole answer's cost")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # OpenCV 5 warns on every network load
    print(f"face bench: {platform.processor() or platform.machine()}, {cores} cores, OpenCV {cv2.__version__}")
    models = load_models()
    if args.answers_only:
        whole_answers(models, args.repeat)
        return
    originals = [read_image(FACES / name) for name in PHOTOS]
    by_width = {width: [resized(image, width) for image in originals] for width in (640, 1280)}

    print("1. latency per image, one core:")
    for width in (640, 1280):
        latency(models, by_width[width], args.repeat)

    images = by_width[640]

    def direct_step(index: int) -> Callable[[int], object]:
        opencv = DirectOpenCV(models)
        return lambda i: opencv.verify(images[PAIRS[i % len(PAIRS)][0]], images[PAIRS[i % len(PAIRS)][1]])

    # The phases alternate for several rounds and each keeps its best round, so that a burst of other work
    # on the machine does not land on one side of the comparison only.
    runs: dict[str, list[float]] = {"full": [], "bare": [], "threads": [], "internal": []}
    pool = FacePool(workers=cores, models=models)
    try:
        asyncio.run(run_pool(pool, images, 1.0, full=False))  # warm-up: engines built, sizes set
        run_threads(cores, 1.0, direct_step)
        for _ in range(args.rounds):
            runs["full"].append(asyncio.run(run_pool(pool, images, args.seconds, full=True)))
            runs["bare"].append(asyncio.run(run_pool(pool, images, args.seconds, full=False)))
            runs["threads"].append(run_threads(cores, args.seconds, direct_step))
            cv2.setNumThreads(cores)
            runs["internal"].append(run_threads(1, args.seconds, direct_step))
            cv2.setNumThreads(1)
    finally:
        pool.close()

    def show(label: str, key: str) -> None:
        rounds = ", ".join(f"{value:.1f}" for value in runs[key])
        print(f"  {label:<42} {max(runs[key]):6.1f}/s  (rounds: {rounds})")

    print(f"2. verifications/s through FacePool({cores}), two 640 px photos each, best of {args.rounds} rounds:")
    show("verify (quality checks included)", "full")
    show("detect + embed + cosine", "bare")
    print(f"3. the same detect + embed + cosine calling OpenCV directly on {cores} cores:")
    show(f"{cores} plain threads, one OpenCV thread each", "threads")
    show(f"1 loop, {cores} OpenCV internal threads", "internal")
    best = max(max(runs["threads"]), max(runs["internal"]))
    print(f"overhead of the pool (best direct / pool, same work): {best / max(runs['bare']):.2f}x (target <= 1.2)")
    print(f"pool with quality checks vs best direct:              {best / max(runs['full']):.2f}x")
    whole_answers(models, args.repeat)


if __name__ == "__main__":
    main()
