"""The real photos of shared/faces (CI has shared/ beside the repository), read once."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

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
