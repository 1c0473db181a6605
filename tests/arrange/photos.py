"""The real photos of shared/faces (CI has shared/ beside the repository), read once."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import cv2
import numpy as np

from verification.face.images import ImageBGR, read_image

FACES = Path(__file__).parents[2].parent / "shared" / "faces"
PAIRS_CSV = FACES / "pairs.csv"


@functools.cache
def photo(name: str) -> ImageBGR:
    """A photo from shared/faces, cached and read-only."""
    image = read_image(FACES / name)
    image.flags.writeable = False
    return image


def pairs() -> list[tuple[str, str, bool]]:
    with PAIRS_CSV.open(newline="") as handle:
        return [(row["image_a"], row["image_b"], row["same_person"] == "1") for row in csv.DictReader(handle)]


def side_by_side(left: ImageBGR, right: ImageBGR) -> ImageBGR:
    """Two photos next to each other, the right one scaled to the left one's height (two people in view)."""
    height = left.shape[0]
    scaled = cv2.resize(right, (round(right.shape[1] * height / right.shape[0]), height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.hstack([left, scaled]))
