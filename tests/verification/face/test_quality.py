"""Quality checks on real photos and on real photos made worse: each refusal says what to fix."""

from __future__ import annotations

import cv2
import numpy as np

from tests.arrange.photos import photo, side_by_side
from verification.face.engine import FaceEngine
from verification.face.images import ImageBGR
from verification.face.quality import QualityIssue, QualityReport, assess_quality


def assess(engine: FaceEngine, image: ImageBGR) -> QualityReport:
    return assess_quality(image, engine.detect(image))


def test_a_good_photo_passes(engine: FaceEngine) -> None:
    report = assess(engine, photo("obama.jpg"))
    assert report.passed, report.issues
    assert report.face is not None
    assert report.measurements is not None
    assert report.measurements.sharpness is not None


def test_an_image_without_a_face_is_refused_with_no_face(engine: FaceEngine) -> None:
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    report = assess(engine, cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR))
    assert report.issues == (QualityIssue.NO_FACE,)
    assert report.face is None


def test_a_crop_without_a_face_is_refused_with_no_face(engine: FaceEngine) -> None:
    suit = np.ascontiguousarray(photo("obama.jpg")[700:1100, 100:800])
    assert assess(engine, suit).issues == (QualityIssue.NO_FACE,)


def test_two_people_side_by_side_are_refused_with_multiple_faces(engine: FaceEngine) -> None:
    report = assess(engine, side_by_side(photo("obama.jpg"), photo("person_b_1.jpg")))
    assert report.issues == (QualityIssue.MULTIPLE_FACES,)
    assert report.face_count == 2


def test_a_face_far_from_the_camera_is_too_small(engine: FaceEngine) -> None:
    report = assess(engine, photo("messi5.jpg"))  # a face of about 31x40 px in a wide shot
    assert report.issues == (QualityIssue.FACE_TOO_SMALL,)


def test_a_blurred_photo_is_refused_as_blurred(engine: FaceEngine) -> None:
    blurred = cv2.GaussianBlur(photo("obama.jpg"), (0, 0), 4)
    assert assess(engine, blurred).issues == (QualityIssue.BLURRED,)


def test_a_dark_photo_is_refused_as_too_dark_not_as_blurred(engine: FaceEngine) -> None:
    dark = (photo("obama.jpg").astype(np.float32) * 0.25).astype(np.uint8)
    assert assess(engine, dark).issues == (QualityIssue.TOO_DARK,)


def test_an_overexposed_photo_is_refused_as_too_bright(engine: FaceEngine) -> None:
    bright = cv2.convertScaleAbs(photo("obama.jpg"), alpha=1.0, beta=110)
    assert assess(engine, bright).issues == (QualityIssue.TOO_BRIGHT,)


def test_a_clearly_turned_face_is_not_frontal(engine: FaceEngine) -> None:
    image = photo("obama.jpg")
    (face,) = engine.detect(image)
    marks = face.landmarks
    # The same detection with the nose tip moved most of the way to the left eye: a head turned ~50°.
    turned_nose = (marks.nose_tip[0] + 0.55 * (marks.left_eye[0] - marks.right_eye[0]), marks.nose_tip[1])
    turned = type(face)(box=face.box, landmarks=marks._replace(nose_tip=turned_nose), score=face.score)
    assert assess_quality(image, [turned]).issues == (QualityIssue.POSE_NOT_FRONTAL,)
