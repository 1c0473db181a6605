"""Face-matching accuracy on a labelled list of photo pairs.

    python -m verification.face.evaluate PAIRS.csv [--accept X] [--reject Y]

PAIRS.csv has the columns `image_a,image_b,same_person` (1 or 0), image paths relative to the CSV's folder
(the format of shared/faces/pairs.csv). Every photo is detected and embedded once with the real models;
a photo in which not exactly one face is found is listed and its pairs are counted as not scored, never
dropped silently. Printed: ROC-AUC, TAR at FAR 1 % and 0.1 % where the number of impostor pairs allows it
(a FAR of f needs at least 1/f impostor pairs), and the accept / review / reject split of genuine and
impostor pairs at the thresholds, with a 95 % upper bound on the false-accept rate.

How the default thresholds (`matching.Thresholds`) were chosen, with this tool on shared/faces/pairs.csv:
8 genuine pairs scored 0.60-0.81, 58 impostor pairs -0.10-0.26 (ROC-AUC 1.0; OpenCV 4.12's reference
pipeline gives the same ranges). The reject threshold is OpenCV Zoo's published SFace threshold, 0.363,
which sits in the gap and gave 99.60 % accuracy on LFW's 6,000 pairs; the accept threshold, 0.50, is put
higher for a margin against false accepts, still 0.10 below the lowest genuine pair; scores in between go
to review. Everything lands on the right side here. But the set is tiny and its people are famous (likely
in SFace's training data), so this shows the pipeline works, not what the error rates are: with 58
impostor pairs the most one can say is FAR below 5 % (95 % confidence). Measure again on a broad set of
consented, labelled pairs of our own users before trusting the numbers.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from verification.errors import InvalidValue
from verification.face.engine import FaceEngine
from verification.face.images import read_image
from verification.face.matching import (
    DEFAULT_THRESHOLDS,
    Embedding,
    MatchDecision,
    Thresholds,
    cosine_similarity,
    decide,
)
from verification.face.models import load_models
from verification.face.quality import assess_quality

FAR_TARGETS = (0.01, 0.001)
COLUMNS = ("image_a", "image_b", "same_person")


@dataclass(frozen=True, slots=True)
class Pair:
    image_a: str
    image_b: str
    same_person: bool


@dataclass(frozen=True, slots=True)
class PhotoResult:
    faces: int
    embedding: Embedding | None
    quality_issues: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredPair:
    pair: Pair
    score: float


def read_pairs(path: Path) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected the columns {', '.join(COLUMNS)}")
        pairs = []
        for line, row in enumerate(reader, start=2):
            label = row["same_person"].strip()
            if label not in ("0", "1"):
                raise ValueError(f"{path}:{line}: same_person must be 0 or 1, got {label!r}")
            pairs.append(Pair(row["image_a"].strip(), row["image_b"].strip(), label == "1"))
    return pairs


def analyse_photo(engine: FaceEngine, path: Path) -> PhotoResult:
    try:
        image = read_image(path)
    except (OSError, InvalidValue) as exc:
        return PhotoResult(faces=0, embedding=None, quality_issues=(), error=str(exc))
    faces = engine.detect(image)
    report = assess_quality(image, faces)
    embedding = engine.embed(image, faces[0]) if len(faces) == 1 else None
    return PhotoResult(faces=len(faces), embedding=embedding, quality_issues=tuple(report.issues))


def roc_auc(genuine: Sequence[float], impostor: Sequence[float]) -> float:
    """Probability that a random genuine pair outscores a random impostor pair (ties count half)."""
    if not genuine or not impostor:
        return math.nan
    wins = sum((g > i) + 0.5 * (g == i) for g in genuine for i in impostor)
    return wins / (len(genuine) * len(impostor))


def tar_at_far(genuine: Sequence[float], impostor: Sequence[float], far: float) -> tuple[float, float] | None:
    """(TAR, threshold) at the given FAR, or None when there are too few impostor pairs to estimate it."""
    if not genuine or len(impostor) * far < 1:
        return None
    ranked = sorted(impostor, reverse=True)
    allowed = math.floor(far * len(impostor))  # impostors that may score above the threshold
    threshold = ranked[allowed] if allowed < len(ranked) else -1.0
    return sum(g > threshold for g in genuine) / len(genuine), threshold


def decision_counts(scores: Sequence[float], thresholds: Thresholds) -> dict[MatchDecision, int]:
    counts = dict.fromkeys(MatchDecision, 0)
    for score in scores:
        counts[decide(score, thresholds)] += 1
    return counts


def _rate(count: int, total: int) -> str:
    if total == 0:
        return "n/a"
    return f"{count / total:6.1%} ({count}/{total})"


def report(pairs: Sequence[Pair], photos: dict[str, PhotoResult], thresholds: Thresholds) -> list[str]:
    lines = ["photos:"]
    for name, photo in sorted(photos.items()):
        status = photo.error or (f"{photo.faces} faces, not scored" if photo.faces != 1 else "1 face")
        issues = f"  quality: {', '.join(photo.quality_issues)}" if photo.quality_issues and not photo.error else ""
        lines.append(f"  {name}: {status}{issues}")

    scored: list[ScoredPair] = []
    unscored: list[Pair] = []
    for pair in pairs:
        a, b = photos[pair.image_a].embedding, photos[pair.image_b].embedding
        if a is None or b is None:
            unscored.append(pair)
        else:
            scored.append(ScoredPair(pair, cosine_similarity(a, b)))
    genuine = sorted(s.score for s in scored if s.pair.same_person)
    impostor = sorted(s.score for s in scored if not s.pair.same_person)

    lines.append(
        f"pairs: {len(pairs)}; scored: {len(genuine)} genuine, {len(impostor)} impostor; not scored: {len(unscored)}"
    )
    lines.extend(f"  not scored: {p.image_a} / {p.image_b}" for p in unscored)
    if genuine:
        lines.append(
            f"genuine scores:  min {genuine[0]:.3f}  median {genuine[len(genuine) // 2]:.3f}  max {genuine[-1]:.3f}"
        )
    if impostor:
        lines.append(
            f"impostor scores: min {impostor[0]:.3f}  median {impostor[len(impostor) // 2]:.3f}  max {impostor[-1]:.3f}"
        )
    for label, chosen in (
        ("lowest genuine", sorted((s for s in scored if s.pair.same_person), key=lambda s: s.score)[:3]),
        ("highest impostor", sorted((s for s in scored if not s.pair.same_person), key=lambda s: -s.score)[:3]),
    ):
        lines.extend(f"  {label}: {s.score:.3f}  {s.pair.image_a} / {s.pair.image_b}" for s in chosen)

    lines.append(f"ROC-AUC: {roc_auc(genuine, impostor):.4f}")
    for far in FAR_TARGETS:
        estimate = tar_at_far(genuine, impostor, far)
        if estimate is None:
            needed = math.ceil(1 / far)
            lines.append(f"TAR at FAR {far:.1%}: not estimable (needs {needed} impostor pairs, have {len(impostor)})")
        else:
            lines.append(f"TAR at FAR {far:.1%}: {estimate[0]:.1%} (threshold {estimate[1]:.3f})")
    if impostor:
        above = sum(g > impostor[-1] for g in genuine)
        highest = f"above the highest impostor, {impostor[-1]:.3f}"
        lines.append(f"TAR at FAR 0/{len(impostor)} ({highest}): {_rate(above, len(genuine))}")

    lines.append(f"thresholds: accept >= {thresholds.accept:.3f}, reject < {thresholds.reject:.3f}, review in between")
    g_counts, i_counts = decision_counts(genuine, thresholds), decision_counts(impostor, thresholds)
    for label, counts, total in (("genuine: ", g_counts, len(genuine)), ("impostor:", i_counts, len(impostor))):
        split = "  ".join(f"{decision} {_rate(counts[decision], total)}" for decision in MatchDecision)
        lines.append(f"  {label} {split}")
    false_accepts, false_rejects = i_counts[MatchDecision.ACCEPT], g_counts[MatchDecision.REJECT]
    lines.append(
        f"false-accept rate: {_rate(false_accepts, len(impostor))}{_upper_bound(false_accepts, len(impostor))}"
    )
    lines.append(f"false-reject rate: {_rate(false_rejects, len(genuine))}{_upper_bound(false_rejects, len(genuine))}")
    return lines


def _upper_bound(errors: int, total: int) -> str:
    """The rule of three: with no error in n trials, the rate is below 3/n with 95 % confidence."""
    if errors or not total:
        return ""
    return f"; 95 % upper bound {min(1.0, 3 / total):.1%}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verification.face.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("pairs", type=Path, help="CSV with image_a,image_b,same_person")
    parser.add_argument("--accept", type=float, default=DEFAULT_THRESHOLDS.accept)
    parser.add_argument("--reject", type=float, default=DEFAULT_THRESHOLDS.reject)
    args = parser.parse_args(argv)
    try:
        thresholds = Thresholds(accept=args.accept, reject=args.reject)
        pairs = read_pairs(args.pairs)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = FaceEngine(load_models())
    folder = args.pairs.parent
    names = sorted({name for pair in pairs for name in (pair.image_a, pair.image_b)})
    photos = {name: analyse_photo(engine, folder / name) for name in names}
    print("\n".join(report(pairs, photos, thresholds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
