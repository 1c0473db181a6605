"""`idv dev face-try`: a development way to see face verification decide on real photos, with every
check's numbers, without writing frame synthesis code. Development only: refused in production.

It draws a challenge as the service does (among the actions the photos can answer), sends the photos
as that challenge's answer through the same decoding, checks and decision rule as
`POST /v1/me/verifications/face/{id}` (`verification.assess_answer`, `verification.judge`), with the
configured thresholds and `IDV_FACE_VERIFY_WITHOUT_REVIEW`, and prints what the service would decide.
It does not touch a database: no account, consent, nonce, attempt bound, case or stored image is
involved (the API's tests cover those).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.face.verification import DOCUMENT_MAX_SIDE, FACE_LIMITS, Assessment, assess_answer, judge
from service.settings import Settings
from verification.errors import InvalidValue
from verification.face.analysis import FaceAnalysis
from verification.face.images import FACE_MAX_SIDE, ImageBGR, decode_face_image
from verification.face.liveness import ChallengeAction
from verification.face.matching import Thresholds
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector, PresentationAttackDetector

# new_challenge draws a turn first, so a challenge the photos can answer turns up within a few draws.
MAX_DRAWS = 200


class TrialRefused(Exception):
    """The photos given cannot answer any challenge, or one could not be read."""


@dataclass(frozen=True)
class TrialPhotos:
    document: Path
    straight: Path  # the neutral first frame, looking at the camera
    moves: dict[ChallengeAction, Path]  # a real photo of the person making each move


def draw_challenge(
    liveness: PresentationAttackDetector, available: set[ChallengeAction], rng: random.Random
) -> list[ChallengeAction]:
    """A challenge drawn as the service draws one, redrawn until the photos can answer every action."""
    for _ in range(MAX_DRAWS):
        actions = liveness.new_challenge(rng)
        if set(actions) <= available:
            return actions
    names = ", ".join(sorted(action.value for action in available)) or "none"
    raise TrialRefused(
        f"no challenge the service draws can be answered with photos for: {names} (it asks for 2-3 moves, "
        "one of them a turn: give more photos, or pin a challenge with --actions)"
    )


def _read(path: Path, max_side: int) -> ImageBGR:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrialRefused(f"{path}: {exc.strerror}") from None
    try:
        return decode_face_image(data, FACE_LIMITS, max_side)
    except InvalidValue as exc:
        raise TrialRefused(f"{path}: {exc.code}: {exc.message}") from None


async def run_trial(
    settings: Settings, photos: TrialPhotos, actions: Sequence[ChallengeAction] | None, rng: random.Random
) -> tuple[list[ChallengeAction], Assessment, list[str]]:
    """The challenge answered, every check's result, and the report's lines."""
    pool = FacePool(workers=1)
    try:
        liveness = ActiveChallengeDetector(pool)
        chosen = list(actions) if actions else draw_challenge(liveness, set(photos.moves), rng)
        missing = [action.value for action in chosen if action not in photos.moves]
        if missing:
            raise TrialRefused(f"no photo for {', '.join(missing)}")
        document = _read(photos.document, DOCUMENT_MAX_SIDE)
        frames = [[_read(photos.moves[action], FACE_MAX_SIDE)] for action in chosen]
        frames[0].insert(0, _read(photos.straight, FACE_MAX_SIDE))
        thresholds = Thresholds(settings.face_accept_threshold, settings.face_reject_threshold)
        assessed = await assess_answer(pool, liveness, thresholds, chosen, document, frames)
    finally:
        pool.close()
    return chosen, assessed, report(settings, chosen, assessed)


def _quality_line(name: str, analysis: FaceAnalysis) -> str:
    quality = analysis.quality
    measured = quality.measurements
    numbers = (
        f"faces {quality.face_count}"
        if measured is None
        else (
            f"face width {measured.face_width:.0f} px, sharpness "
            + ("n/a" if measured.sharpness is None else f"{measured.sharpness:.0f}")
            + f", luminance {measured.luminance:.0f}, yaw {measured.pose.yaw:+.1f}°, pitch {measured.pose.pitch:+.1f}°"
        )
    )
    verdict = "passed" if quality.passed else "issues: " + ", ".join(issue.value for issue in quality.issues)
    return f"  {name:9s} {numbers}; {verdict}"


def report(settings: Settings, actions: Sequence[ChallengeAction], assessed: Assessment) -> list[str]:
    liveness = assessed.liveness
    lines = [
        "DEVELOPMENT ONLY: the service's checks and decision rule on these photos; nothing was stored.",
        f"challenge: {', '.join(action.value for action in actions)}",
        "quality:",
        _quality_line("document", assessed.reference),
        _quality_line("straight", assessed.live),
        f"liveness ({liveness.method}, certified {str(liveness.certified).lower()}): "
        + ("passed" if liveness.passed else "failed")
        + (" with margin" if liveness.confident else ""),
    ]
    unit = {ChallengeAction.MOVE_CLOSER: "x face size"}
    for action in liveness.actions:
        suffix = unit.get(action.action, "° made by depth")
        lines.append(
            f"  {action.action.value:12s} measured {action.measured:.2f}{suffix}, required {action.required:.2f}"
            f" ({action.frames} frame(s)): {'performed' if action.performed else 'not performed'}"
        )
    for problem in liveness.frame_problems:
        similarity = f" (cosine {problem.similarity:.3f})" if problem.similarity is not None else ""
        lines.append(f"  frame {problem.action_index}-{problem.frame_index}: {problem.issue.value}{similarity}")
    if liveness.reason_codes:
        lines.append(f"  reasons: {', '.join(code.value for code in liveness.reason_codes)}")
    if liveness.uncertainties:
        lines.append(f"  without margin: {', '.join(u.value for u in liveness.uncertainties)}")
    outcome = assessed.outcome
    if outcome is None:
        lines.append("match: not compared (a photo failed its quality checks)")
        lines.append("decision: 422 face_quality (the service would ask for a retake)")
        return lines
    lines.append(
        f"match: cosine {outcome.score:.4f} (accept >= {outcome.thresholds.accept}, reject < "
        f"{outcome.thresholds.reject}): {outcome.decision.value}"
    )
    judged = judge(outcome, settings.face_verify_without_review)
    decided_by = "an operator (in review)" if judged.status == "in_review" else "automatic"
    lines.append(
        f"decision: {judged.status} ({judged.reason}; IDV_FACE_VERIFY_WITHOUT_REVIEW="
        f"{settings.face_verify_without_review}; decided by {decided_by})"
    )
    if judged.reason_codes:
        lines.append(f"reason codes: {', '.join(judged.reason_codes)}")
    return lines
