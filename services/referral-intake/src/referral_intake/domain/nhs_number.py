"""NHS numbers: ten digits, the last a modulus 11 check digit over the first nine."""

from __future__ import annotations

from dataclasses import dataclass

TEST_RANGE = (9_990_000_000, 9_999_999_999)


@dataclass(frozen=True)
class NhsNumberProblem:
    code: str
    message: str


def check_nhs_number(raw: str, *, accept_test_numbers: bool) -> str | NhsNumberProblem:
    """The normalised number (spaces and hyphens removed), or the problem with it."""
    digits = "".join(raw.replace("-", " ").split())
    if not digits:
        return NhsNumberProblem("nhs_number.missing", "The NHS number is missing.")
    if not digits.isascii() or not digits.isdigit():
        return NhsNumberProblem("nhs_number.format", "The NHS number must contain digits only.")
    if len(digits) != 10:
        return NhsNumberProblem(
            "nhs_number.format", f"The NHS number must have 10 digits, not {len(digits)}."
        )
    remainder = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = (11 - remainder) % 11
    if check == 10 or check != int(digits[9]):
        return NhsNumberProblem("nhs_number.checksum", "The NHS number fails its check digit.")
    if not accept_test_numbers and TEST_RANGE[0] <= int(digits) <= TEST_RANGE[1]:
        return NhsNumberProblem(
            "nhs_number.test_number",
            "The NHS number is in the 999 test range, which this deployment refuses.",
        )
    return digits
