"""NHS numbers: ten digits, the last a modulus 11 check digit over the first nine."""

from __future__ import annotations

from dataclasses import dataclass

# Numbers from 999 000 0000 to 999 999 9999 are never issued to patients: they exist for testing.
TEST_RANGE = (9_990_000_000, 9_999_999_999)
_WEIGHTS = range(10, 1, -1)
# Referrers' systems print the number as 3-3-4 groups with spaces or hyphens; nothing else is
# taken out, so a tab or a control character is a format problem rather than silently ignored.
_SEPARATORS = str.maketrans("", "", " -")


@dataclass(frozen=True)
class NhsNumberProblem:
    """Why a string is not an acceptable NHS number: a stable code and a sentence without the number."""

    code: str
    message: str


def check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit of nine ASCII digits; None when it would be 10 (never issued)."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def check_nhs_number(raw: str, *, accept_test_numbers: bool) -> str | NhsNumberProblem:
    """The normalised ten-digit number (spaces and hyphens removed), or the problem with it.

    Codes: nhs_number.missing, nhs_number.format (not ten ASCII digits), nhs_number.checksum
    (modulus 11 fails, including a check digit of 10) and nhs_number.test_number (the 999 range
    when `accept_test_numbers` is false).
    """
    digits = raw.translate(_SEPARATORS)
    if not digits:
        return NhsNumberProblem("nhs_number.missing", "The NHS number is missing.")
    if not (digits.isascii() and digits.isdigit()):
        return NhsNumberProblem("nhs_number.format", "The NHS number must contain digits only.")
    if len(digits) != 10:
        return NhsNumberProblem("nhs_number.format", "The NHS number must have exactly 10 digits.")
    if check_digit(digits[:9]) != int(digits[9]):
        return NhsNumberProblem("nhs_number.checksum", "The NHS number fails its check digit.")
    if not accept_test_numbers and TEST_RANGE[0] <= int(digits) <= TEST_RANGE[1]:
        return NhsNumberProblem(
            "nhs_number.test_number",
            "The NHS number is in the 999 test range, which this service does not accept.",
        )
    return digits
