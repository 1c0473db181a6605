"""The attack report in ISO/IEC 30107-3 terms, and who may verify without a person looking."""

from __future__ import annotations

from service.face.verification import may_verify_without_review
from verification.face.attacks import BONA_FIDE, Classification, attack_report
from verification.face.liveness import LivenessIssue, LivenessResult, Uncertainty


def test_apcer_counts_attacks_verified_and_bpcer_bona_fide_rejected() -> None:
    classifications = [
        Classification("print tilted", "a.jpg", "rejected", ()),
        Classification("print tilted", "b.jpg", "review", ()),
        Classification("re-rendered", "a.jpg", "verified", ()),
        Classification("re-rendered", "b.jpg", "rejected", ()),
        Classification(BONA_FIDE, "a.jpg -> b.jpg", "verified", ()),
        Classification(BONA_FIDE, "b.jpg -> a.jpg", "rejected", ()),
    ]
    report = attack_report(classifications)
    assert "APCER 0.00" in report.splitlines()[1]
    assert "APCER 0.50" in report.splitlines()[2]
    assert "BPCER 0.50 (review 0.00)" in report.splitlines()[3]
    assert report.endswith("MAX APCER): 0.50")


def test_only_a_pass_with_margin_or_a_certified_pad_verifies_without_review() -> None:
    confident = LivenessResult(passed=True, reason_codes=())
    uncertain = LivenessResult(passed=True, reason_codes=(), uncertainties=(Uncertainty.TURN_WITHOUT_MARGIN,))
    certified = LivenessResult(passed=True, reason_codes=(), method="vendor-pad-3", certified=True)
    failed = LivenessResult(passed=False, reason_codes=(LivenessIssue.PLANAR_MOTION,), certified=True)
    assert may_verify_without_review(confident, "margin")
    assert not may_verify_without_review(uncertain, "margin")
    assert not may_verify_without_review(confident, "certified_pad")
    assert may_verify_without_review(certified, "certified_pad")
    assert not may_verify_without_review(certified, "never")
    assert not may_verify_without_review(failed, "margin")
