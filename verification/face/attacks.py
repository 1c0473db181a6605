"""Presentation attacks built from one photo of the victim, as an attacker holding that photo would.

Every function here turns ONE still into a frame that pretends to be a live camera frame: a flat print
tilted about either axis, rotated, zoomed (moved closer), mirrored, blurred or recompressed, its nose
warped sideways, or the still re-rendered through a generic 3-D head (each pixel given a depth and
turned with it; the most capable of these, since it moves the nose off the face's plane). None of them
is a genuine capture: genuine test data are different real photos of one person in different poses.

`python -m verification.face.attacks [FACES_DIR]` builds the attack set from the photos of
shared/faces and prints the attack presentation classification error rate (APCER) per attack type and
the bona fide presentation classification error rate (BPCER) on genuine captures, in ISO/IEC 30107-3
terms (see `attack_report`).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from verification.face.engine import FaceEngine
from verification.face.geometry import DetectedFace, orientation
from verification.face.images import ImageBGR, read_image
from verification.face.liveness import (
    DEFAULT_LIVENESS,
    TURNS,
    ChallengeAction,
    LivenessConfig,
    check_challenge,
    observe_frame,
)
from verification.face.matching import MatchDecision, cosine_similarity, decide
from verification.face.models import load_models

Depth = npt.NDArray[np.float32]


def tilt_print(image: ImageBGR, degrees: float, axis: str = "vertical", distance: float = 0.8) -> ImageBGR:
    """A flat print turned by `degrees` about its vertical (like a head turn) or horizontal (like a nod)
    axis, in front of a pinhole camera `distance` image sides away."""
    height, width = image.shape[:2]
    center_x, center_y = width / 2, height / 2
    camera = distance * max(width, height)
    angle = math.radians(degrees)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    projected = []
    for x, y in corners:
        dx, dy = x - center_x, y - center_y
        if axis == "vertical":
            depth = camera + dx * math.sin(angle)
            projected.append([center_x + camera * dx * math.cos(angle) / depth, center_y + camera * dy / depth])
        else:
            depth = camera - dy * math.sin(angle)
            projected.append([center_x + camera * dx / depth, center_y + camera * dy * math.cos(angle) / depth])
    matrix = cv2.getPerspectiveTransform(corners, np.array(projected, dtype=np.float32))
    return np.asarray(
        cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8
    )


def rotate_print(image: ImageBGR, degrees: float) -> ImageBGR:
    """The print turned in its own plane (roll) about the image centre."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def zoom_print(image: ImageBGR, face: DetectedFace, factor: float) -> ImageBGR:
    """The print brought closer: a zoom about the face's centre by `factor`, keeping the frame size."""
    center_x = face.box.x + face.box.width / 2
    center_y = face.box.y + face.box.height / 2
    matrix = np.array([[factor, 0, (1 - factor) * center_x], [0, factor, (1 - factor) * center_y]], dtype=np.float32)
    height, width = image.shape[:2]
    return np.asarray(
        cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def mirror_print(image: ImageBGR) -> ImageBGR:
    """The photo flipped left to right (a turned head then reads as turned the other way)."""
    return np.ascontiguousarray(image[:, ::-1])


def blur_print(image: ImageBGR, sigma: float) -> ImageBGR:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def recompress_print(image: ImageBGR, quality: int) -> ImageBGR:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("could not encode")
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)


def warp_nose(image: ImageBGR, face: DetectedFace, shift: float) -> ImageBGR:
    """The nose pushed sideways by `shift` inter-eye distances (positive: toward the image's right), with a
    smooth falloff, the rest of the photo untouched: fakes the nose's parallax on a flat picture."""
    marks = face.landmarks
    eye_distance = math.dist(marks.right_eye, marks.left_eye)
    height, width = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    nose_x, nose_y = marks.nose_tip
    radius = 0.45 * eye_distance
    weight = np.exp(-(((xs - nose_x) / radius) ** 2 + ((ys - nose_y) / (1.3 * radius)) ** 2))
    source_x = (xs - shift * eye_distance * weight).astype(np.float32)
    return np.asarray(cv2.remap(image, source_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def _depth(shape: tuple[int, ...], face: DetectedFace) -> tuple[Depth, float, float]:
    height, width = shape[:2]
    box, marks = face.box, face.landmarks
    center_x, center_y = box.x + box.width / 2, box.y + box.height / 2
    eye_distance = math.dist(marks.right_eye, marks.left_eye)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    head = (
        0.6
        * box.width
        * np.exp(-(((xs - center_x) / (0.6 * box.width)) ** 2 + ((ys - center_y) / (0.75 * box.height)) ** 2))
    )
    nose_x, nose_y = marks.nose_tip
    nose = (
        0.45
        * eye_distance
        * np.exp(-(((xs - nose_x) / (0.3 * eye_distance)) ** 2 + ((ys - nose_y) / (0.3 * eye_distance)) ** 2))
    )
    return (head + nose).astype(np.float32), center_x, center_y


def rerender_head(image: ImageBGR, face: DetectedFace, degrees: float, axis: str = "yaw") -> ImageBGR:
    """The still re-rendered as if the head turned (`yaw`, positive to the subject's left) or nodded
    (`pitch`, positive up): every pixel gets a depth from a generic head and is rotated with it."""
    depth, center_x, center_y = _depth(image.shape, face)
    angle = math.radians(degrees)
    height, width = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    source_x, source_y = xs.copy(), ys.copy()
    # Output pixel p shows the source point s with s + displacement(s) = p; solved by fixed-point iteration.
    for _ in range(10):
        z = cv2.remap(depth, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if axis == "yaw":
            source_x = (center_x + ((xs - center_x) - z * math.sin(angle)) / math.cos(angle)).astype(np.float32)
        else:
            source_y = (center_y + ((ys - center_y) + z * math.sin(angle)) / math.cos(angle)).astype(np.float32)
    return np.asarray(
        cv2.remap(image, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8
    )


# --- The attack set and its error rates (`python -m verification.face.attacks`) ---------------------

BONA_FIDE = "bona fide"


@dataclass(frozen=True, slots=True)
class Presentation:
    """One answer to a challenge: the document, and frames per action (the first one neutral)."""

    kind: str  # an attack type, or BONA_FIDE
    source: str  # the photo(s) it was made from
    actions: tuple[ChallengeAction, ...]
    document: ImageBGR
    frames: tuple[tuple[ImageBGR, ...], ...]


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str
    source: str
    verdict: str  # "verified" (classified bona fide without a person), "review", "rejected"
    reasons: tuple[str, ...]
    turn: float | None = None  # degrees of depth-made turn in the best frame of the turn (see `parallax`)


def turn_attacks(image: ImageBGR, face: DetectedFace, sign: float) -> dict[str, list[ImageBGR]]:
    """What an attacker holding one photo shows for a turn (both ways round, since a print's geometry
    does not say which way it reads): `sign` +1 for the subject's left."""
    tilts = [tilt_print(image, angle * sign) for angle in (30, 45)]
    return {
        "print tilted (vertical axis)": tilts,
        "print tilted (horizontal axis)": [tilt_print(image, angle, "horizontal") for angle in (-45, 45)],
        "print rotated": [rotate_print(image, angle) for angle in (-20, 20)],
        "print mirrored": [mirror_print(image)],
        "print tilted, blurred": [blur_print(tilt, 1.5) for tilt in tilts],
        "print tilted, JPEG q=30": [recompress_print(tilt, 30) for tilt in tilts],
        "nose warped": [warp_nose(image, face, shift * sign) for shift in (0.2, 0.35)],
        "print tilted, nose warped": [tilt_print(warp_nose(image, face, 0.3 * sign), 30 * sign)],
        "still re-rendered through a 3-D head": [rerender_head(image, face, 35 * sign)],
    }


def build_presentations(
    photos: dict[str, ImageBGR], identities: dict[str, str], engine: FaceEngine
) -> list[Presentation]:
    """Attacks from each photo of a person with at least two photos (the other is the document), and bona
    fide captures: two different real photos of one person whose estimated yaw differs by 15° or more."""
    presentations: list[Presentation] = []
    faces = {name: engine.detect(image) for name, image in photos.items()}
    usable = {name for name, found in faces.items() if len(found) == 1 and found[0].box.width >= 80}
    by_person: dict[str, list[str]] = {}
    for name in sorted(usable):
        by_person.setdefault(identities[name], []).append(name)
    for names in by_person.values():
        if len(names) < 2:
            continue
        for name in names:
            image, face = photos[name], faces[name][0]
            document = photos[next(other for other in names if other != name)]
            neutral = recompress_print(image, 90)
            closer = (zoom_print(image, face, 1.3),)
            for action, sign in ((ChallengeAction.TURN_LEFT, 1.0), (ChallengeAction.TURN_RIGHT, -1.0)):
                actions = (action, ChallengeAction.MOVE_CLOSER)
                for kind, frames in turn_attacks(image, face, sign).items():
                    presentations.append(Presentation(kind, name, actions, document, ((neutral, *frames), closer)))
                reuse = (
                    tuple(
                        recompress_print(frame, 90)
                        for frame in (image, *turn_attacks(image, face, sign)["print tilted (vertical axis)"])
                    ),
                    closer,
                )
                presentations.append(Presentation("document portrait reused", name, actions, image, reuse))
        for neutral_name, turned_name in itertools.permutations(names, 2):
            third = [other for other in names if other not in (neutral_name, turned_name)]
            yaw = _yaw(faces[turned_name][0]) - _yaw(faces[neutral_name][0])
            if abs(yaw) < 15 or not third:
                continue
            action = ChallengeAction.TURN_LEFT if yaw > 0 else ChallengeAction.TURN_RIGHT
            captured = ((photos[neutral_name], photos[turned_name]),)
            source = f"{neutral_name} -> {turned_name}"
            presentations.append(Presentation(BONA_FIDE, source, (action,), photos[third[0]], captured))
    return presentations


def _yaw(face: DetectedFace) -> float:
    return orientation(face.landmarks)[0]


def classify(
    engine: FaceEngine, presentation: Presentation, config: LivenessConfig = DEFAULT_LIVENESS
) -> Classification:
    """As the service would with IDV_FACE_VERIFY_WITHOUT_REVIEW=margin and the default thresholds."""
    frames = [[observe_frame(engine, frame) for frame in action] for action in presentation.frames]
    document = observe_frame(engine, presentation.document)
    result = check_challenge(presentation.actions, frames, config, document)
    if not result.passed:
        verdict = "rejected"
    else:
        live, portrait = result.baseline, document
        score = (
            cosine_similarity(portrait.embedding, live.embedding)
            if live and live.embedding is not None and portrait.embedding is not None
            else -1.0
        )
        decision = decide(score)
        if decision is MatchDecision.REJECT:
            verdict = "rejected"
        elif decision is MatchDecision.ACCEPT and result.confident:
            verdict = "verified"
        else:
            verdict = "review"
    reasons = tuple(code.value for code in result.reason_codes) + tuple(u.value for u in result.uncertainties)
    turn = next((outcome.measured for outcome in result.actions if outcome.action in TURNS), None)
    return Classification(presentation.kind, presentation.source, verdict, reasons, turn)


def attack_report(classifications: Sequence[Classification]) -> str:
    """APCER per attack type (attack presentations verified with no person looking, ISO/IEC 30107-3) and
    BPCER (bona fide presentations rejected), with how many went to review instead."""
    lines = [f"{'presentation':40s} {'n':>3s} {'verified':>9s} {'review':>7s} {'rejected':>9s}  rate  (turn °)"]
    kinds = list(dict.fromkeys(c.kind for c in classifications))
    for kind in kinds:
        group = [c for c in classifications if c.kind == kind]
        counts = {verdict: sum(c.verdict == verdict for c in group) for verdict in ("verified", "review", "rejected")}
        if kind == BONA_FIDE:
            rate = f"BPCER {counts['rejected'] / len(group):.2f} (review {counts['review'] / len(group):.2f})"
        else:
            rate = f"APCER {counts['verified'] / len(group):.2f}"
        turns = [c.turn for c in group if c.turn is not None]
        spread = f"  ({min(turns):.1f} to {max(turns):.1f})" if turns else ""
        lines.append(
            f"{kind:40s} {len(group):3d} {counts['verified']:9d} {counts['review']:7d} {counts['rejected']:9d}  {rate}"
            + spread
        )
    attacks = [c for c in classifications if c.kind != BONA_FIDE]
    if attacks:
        worst = max(
            sum(c.verdict == "verified" for c in attacks if c.kind == kind) / sum(c.kind == kind for c in attacks)
            for kind in kinds
            if kind != BONA_FIDE
        )
        lines.append(f"APCER of the worst attack type (MAX APCER): {worst:.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Presentation attacks built from shared/faces, and their error rates")
    parser.add_argument("faces", nargs="?", default="../shared/faces", help="folder with identities.csv and the photos")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every presentation's verdict")
    args = parser.parse_args(argv)
    folder = Path(args.faces)
    with (folder / "identities.csv").open(newline="") as handle:
        identities = {row["image"]: row["identity"] for row in csv.DictReader(handle)}
    photos = {name: read_image(folder / name) for name in identities}
    engine = FaceEngine(load_models())
    classifications = [classify(engine, p) for p in build_presentations(photos, identities, engine)]
    if args.verbose:
        for c in classifications:
            print(f"{c.kind:40s} {c.source:32s} {c.verdict:9s} {','.join(c.reasons)}")
    print(attack_report(classifications))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
