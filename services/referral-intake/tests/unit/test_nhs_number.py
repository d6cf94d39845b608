"""NHS numbers: ten digits, modulus 11, and the 999 test range only when the deployment allows it."""

from __future__ import annotations

import pytest
from referral_intake.domain.nhs_number import NhsNumberProblem, check_digit, check_nhs_number


def outcome(raw: str, *, accept_test_numbers: bool = True) -> str:
    """The normalised number when valid, else the problem's code."""
    result = check_nhs_number(raw, accept_test_numbers=accept_test_numbers)
    return result.code if isinstance(result, NhsNumberProblem) else result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Valid numbers outside the test range; check digits worked out by hand from weights 10..2.
        ("9434765919", "9434765919"),
        ("4010232137", "4010232137"),
        ("2619730694", "2619730694"),
        ("5239384991", "5239384991"),
        ("4477127820", "4477127820"),  # remainder 0: check digit 11 becomes 0
        ("1518471560", "1518471560"),
        # Printed forms are normalised.
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        (" 943 476 5919 ", "9434765919"),
        # Wrong check digit.
        ("9434765918", "nhs_number.checksum"),
        ("4477127821", "nhs_number.checksum"),
        ("9990000019", "nhs_number.checksum"),
        # First nine digits whose check digit would be 10: never issued, whatever the last digit.
        ("1634694210", "nhs_number.checksum"),
        ("1634694211", "nhs_number.checksum"),
        ("2548927130", "nhs_number.checksum"),
        # Not ten ASCII digits.
        ("943476591", "nhs_number.format"),
        ("94347659190", "nhs_number.format"),
        ("94347A5919", "nhs_number.format"),
        ("NHS9434765919", "nhs_number.format"),
        ("943\t476\t5919", "nhs_number.format"),
        ("943.476.5919", "nhs_number.format"),
        (
            "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",
            "nhs_number.format",
        ),  # full-width digits are digits, not ASCII
        (
            "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669",
            "nhs_number.format",
        ),  # Arabic-Indic digits
        # Nothing there.
        ("", "nhs_number.missing"),
        ("   ", "nhs_number.missing"),
        ("- -", "nhs_number.missing"),
    ],
)
def test_a_number_is_normalised_or_gets_the_code_of_its_problem(raw, expected):
    assert outcome(raw) == expected


@pytest.mark.parametrize(
    ("raw", "accept", "expected"),
    [
        ("9990000018", True, "9990000018"),
        ("9990000018", False, "nhs_number.test_number"),
        ("999 000 0018", False, "nhs_number.test_number"),
        ("9999999999", True, "9999999999"),  # the top of the range happens to be valid
        ("9999999999", False, "nhs_number.test_number"),
        ("9990000019", False, "nhs_number.checksum"),  # the checksum is judged before the range
        ("9434765919", False, "9434765919"),
        ("9434765919", True, "9434765919"),
    ],
)
def test_the_999_test_range_is_accepted_only_when_the_policy_says_so(raw, accept, expected):
    assert outcome(raw, accept_test_numbers=accept) == expected


def test_the_first_valid_number_below_the_test_range_is_a_real_number():
    # 999 000 0000 itself has check digit 10; 998 999 9996 is the nearest valid number below it.
    assert outcome("9989999996", accept_test_numbers=False) == "9989999996"
    assert outcome("9990000018", accept_test_numbers=False) == "nhs_number.test_number"


@pytest.mark.parametrize(
    ("first_nine", "expected"),
    [("943476591", 9), ("401023213", 7), ("447712782", 0), ("163469421", None)],
)
def test_the_check_digit_is_eleven_minus_the_weighted_remainder(first_nine, expected):
    assert check_digit(first_nine) == expected


@pytest.mark.parametrize("raw", ["9434765918", "94347A5919", "943476591", "9990000018"])
def test_problem_messages_never_repeat_the_number(raw):
    problem = check_nhs_number(raw, accept_test_numbers=False)
    assert isinstance(problem, NhsNumberProblem)
    assert raw not in problem.message
    assert raw[:6] not in problem.message
