"""Which services may take a referral: remembered per directory, never across an age limit."""

from __future__ import annotations

from referral_schemas.enums import District, Programme, RiskLevel
from triage.directory.load import default_directory
from triage.directory.matching import candidates

NEIGHBOURS = [(District.LEICESTER, 10.0)]


def cardio(directory, age: int) -> list[str]:
    found = candidates(
        directory,
        programme=Programme.CARDIOPULMONARY_REHAB,
        risk=RiskLevel.HIGH,
        age=age,
        district=District.MELTON,
        neighbours=NEIGHBOURS,
    )
    return [c.service.id for c in found]


def test_ages_are_banded_at_the_services_age_limits():
    directory = default_directory()  # limits: 16 for leisure services, 18 for cardiopulmonary rehab
    bands = [directory.age_band(age) for age in (15, 16, 17, 18, 90)]
    assert bands[0] < bands[1] == bands[2] < bands[3] == bands[4]


def test_a_remembered_answer_never_crosses_a_services_age_limit():
    directory = default_directory()
    assert cardio(directory, 17) == []
    assert cardio(directory, 18) == ["llr-cardiopulmonary-rehab"]
    assert cardio(directory, 17) == []
    assert cardio(directory, 64) == ["llr-cardiopulmonary-rehab"]


def test_a_caller_changing_its_answer_does_not_change_the_next_one():
    directory = default_directory()
    first = cardio(directory, 50)
    first.clear()
    assert cardio(directory, 50) == ["llr-cardiopulmonary-rehab"]


def test_a_reloaded_directory_remembers_nothing_of_the_last_one():
    directory = default_directory()
    cardio(directory, 50)
    assert directory.matches
    assert default_directory().matches == {}
