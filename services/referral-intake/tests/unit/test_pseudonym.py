"""The patient key: a keyed hash of the NHS number that fits the contract's PseudonymousKey."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter
from referral_intake.domain.pseudonym import patient_key
from referral_schemas.primitives import PseudonymousKey

_KEY_TYPE: TypeAdapter[str] = TypeAdapter(PseudonymousKey)


def test_the_same_number_under_the_same_secret_gives_the_same_key():
    assert patient_key("9434765919", b"secret") == patient_key("9434765919", b"secret")


def test_another_secret_or_another_number_gives_another_key():
    key = patient_key("9434765919", b"secret")
    assert key != patient_key("9434765919", b"other secret")
    assert key != patient_key("4010232137", b"secret")


def test_the_key_is_a_valid_pseudonymous_key_and_does_not_contain_the_number():
    key = patient_key("9434765919", b"secret")
    assert _KEY_TYPE.validate_python(key) == key
    assert len(key) == 43  # 32 bytes of HMAC-SHA256 in unpadded base64url
    assert "9434765919" not in key


def test_the_key_is_hmac_sha256_in_base64url():
    # RFC 4231 has no NHS numbers; this pins the encoding against an independently computed value.
    import base64
    import hashlib
    import hmac

    expected = base64.urlsafe_b64encode(hmac.digest(b"k", b"9990000018", hashlib.sha256)).rstrip(b"=")
    assert patient_key("9990000018", b"k") == expected.decode()


@pytest.mark.parametrize(
    "number",
    [
        "999 000 0018",
        "999000001",
        "99900000180",
        "",
        "\uff19\uff19\uff19\uff10\uff10\uff10\uff10\uff10\uff11\uff18",
    ],
)
def test_a_number_that_is_not_normalised_is_refused_rather_than_hashed_to_a_second_key(number):
    with pytest.raises(ValueError, match="normalised"):
        patient_key(number, b"secret")


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        patient_key("9434765919", b"")
