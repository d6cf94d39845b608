"""Webhook signatures (tampering, skew, rotation) and what each HTTP answer leads to."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from provider_notify.domain.delivery import Outcome, RetryPolicy, classify
from provider_notify.domain.signing import (
    SignatureProblem,
    Verified,
    sign,
    signature_header,
    verify,
)

SECRET, OTHER = b"provider-secret", b"another-secret"
BODY = b'{"assignment_id": "x"}'
NOW = 1_772_400_000


def problem(result):
    return getattr(result, "problem", None)


def test_a_signed_body_verifies():
    assert verify(signature_header(SECRET, NOW, BODY), BODY, [SECRET], now=NOW + 3) == Verified(NOW)


def test_a_tampered_body_or_wrong_secret_is_a_mismatch():
    header = signature_header(SECRET, NOW, BODY)
    assert problem(verify(header, BODY + b" ", [SECRET], now=NOW)) is SignatureProblem.MISMATCH
    assert problem(verify(header, BODY, [OTHER], now=NOW)) is SignatureProblem.MISMATCH


@pytest.mark.parametrize("skew", [-301, 301, 3600, -86400])
def test_a_timestamp_too_far_either_way_is_clock_skew(skew):
    header = signature_header(SECRET, NOW, BODY)
    result = verify(header, BODY, [SECRET], now=NOW + skew)
    assert problem(result) is SignatureProblem.CLOCK_SKEW
    assert ("in the future" in result.detail) == (skew < 0)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", f"t=soon,v1={'0' * 64}", "garbage"])
def test_malformed_headers_are_named(header):
    assert problem(verify(header, BODY, [SECRET], now=NOW)) is SignatureProblem.MALFORMED


def test_during_secret_rotation_either_secret_verifies():
    both = f"t={NOW},v1={sign(OTHER, NOW, BODY)},v1={sign(SECRET, NOW, BODY)}"
    assert isinstance(verify(both, BODY, [SECRET], now=NOW), Verified)
    assert isinstance(verify(signature_header(OTHER, NOW, BODY), BODY, [SECRET, OTHER], now=NOW), Verified)


@given(st.text(max_size=200), st.binary(max_size=200))
def test_verify_never_raises(header, body):
    verify(header, body, [SECRET], now=NOW)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (400, Outcome.GIVE_UP),
        (401, Outcome.GIVE_UP),
        (404, Outcome.GIVE_UP),
        (409, Outcome.GIVE_UP),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_each_answer_leads_to_deliver_retry_or_give_up(status, outcome):
    assert classify(status) is outcome


def test_backoff_is_jittered_capped_and_repeatable_with_a_seed():
    policy = RetryPolicy(base_s=1, cap_s=60, give_up_after_s=3600)
    delays = [policy.delay(a, random.Random(7)) for a in range(1, 12)]
    assert all(0 <= d <= min(60, 2 ** (a - 1)) for a, d in zip(range(1, 12), delays, strict=True))
    assert delays == [policy.delay(a, random.Random(7)) for a in range(1, 12)]
    assert policy.exhausted(3600) and not policy.exhausted(3599)
