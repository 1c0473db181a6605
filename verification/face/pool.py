"""Face work off the event loop: a pool of worker threads, each with its own engine.

Why threads, not processes: every costly step (YuNet, SFace, alignment, resizing, decoding) runs inside
OpenCV, which releases the GIL for it, so threads use all cores (bench/face.py measures the pool against
plain OpenCV loops on the same cores). Threads share the verified model bytes and need no pickling of
multi-megabyte images across a process boundary, nor a fork of a process that holds an event loop and
database connections. The price is that a crash inside OpenCV takes the service down with it, as it would
anywhere OpenCV runs in-process.

Each worker thread builds its own FaceEngine on start (OpenCV's detector and networks are not thread-safe)
and the pool has one worker per core. `cv2.setNumThreads(1)` keeps each call on its own thread instead of
fanning out to OpenCV's internal pool: parallelism comes from the workers. That setting is process-wide in
OpenCV, so other OpenCV code in the same process also runs single-threaded once a pool exists.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import cv2

from verification.face.analysis import FaceAnalysis, FaceVerification, analyze_image, compare_analyses
from verification.face.engine import DEFAULT_MAX_SIDE, DEFAULT_SCORE_THRESHOLD, FaceEngine
from verification.face.geometry import DetectedFace
from verification.face.images import ImageBGR
from verification.face.liveness import FrameObservation, observe_frame
from verification.face.matching import DEFAULT_THRESHOLDS, Embedding, Thresholds
from verification.face.models import LoadedModels, load_models
from verification.face.quality import DEFAULT_QUALITY, QualityConfig

T = TypeVar("T")


class FacePool:
    def __init__(
        self,
        workers: int | None = None,
        models: LoadedModels | None = None,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    ) -> None:
        """Load and verify the models (unless given) and start `workers` threads (default: one per core)."""
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError("a face pool needs at least one worker")
        self.models = models if models is not None else load_models()
        self._max_side = max_side
        self._score_threshold = score_threshold
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="face", initializer=self._start_worker
        )
        self._closed = False

    def _start_worker(self) -> None:
        cv2.setNumThreads(1)
        self._local.engine = FaceEngine(self.models, max_side=self._max_side, score_threshold=self._score_threshold)

    def _with_engine(self, work: Callable[[FaceEngine], T]) -> T:
        engine: FaceEngine = self._local.engine
        return work(engine)

    async def run(self, work: Callable[[FaceEngine], T]) -> T:
        """Run `work(engine)` on a worker thread with that thread's engine."""
        if self._closed:
            raise RuntimeError("the face pool is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._with_engine, work)

    async def self_test(self) -> float:
        """The start-up self-test on a worker's engine; SelfTestError when the pipeline is off."""
        return await self.run(lambda engine: engine.self_test())

    async def detect(self, image: ImageBGR) -> list[DetectedFace]:
        return await self.run(lambda engine: engine.detect(image))

    async def embed(self, image: ImageBGR, face: DetectedFace) -> Embedding:
        return await self.run(lambda engine: engine.embed(image, face))

    async def analyze(self, image: ImageBGR, quality: QualityConfig = DEFAULT_QUALITY) -> FaceAnalysis:
        return await self.run(lambda engine: analyze_image(engine, image, quality))

    async def observe(self, image: ImageBGR) -> FrameObservation:
        return await self.run(lambda engine: observe_frame(engine, image))

    async def verify(
        self,
        reference: ImageBGR,
        probe: ImageBGR,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        quality: QualityConfig = DEFAULT_QUALITY,
    ) -> FaceVerification:
        """Analyse both photos (in parallel on two workers) and compare them."""
        first, second = await asyncio.gather(self.analyze(reference, quality), self.analyze(probe, quality))
        return compare_analyses(first, second, thresholds)

    def close(self) -> None:
        """Stop taking work, drop queued work, and wait for the calls already running."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
