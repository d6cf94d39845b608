"""The rules file: the packaged one loads, and a broken one is refused with file, path and problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from referral_schemas.enums import PlusGroup, Programme
from triage.domain.rules import Fact, RulesError, default_rules, load_rules

PACKAGED = Path(__file__).parents[2] / "src" / "triage" / "rules" / "triage-rules.yaml"


def _written(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    document = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "triage-rules.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _index(document: dict[str, Any], programme: str, precedence: int | None = None) -> int:
    return next(
        i
        for i, rule in enumerate(document["programmes"])
        if rule["programme"] == programme and (precedence is None or rule["precedence"] == precedence)
    )


def test_the_packaged_rules_load_with_their_version() -> None:
    rules = default_rules()
    assert rules.version == "2026.11.1"
    assert load_rules(PACKAGED) == rules


def test_the_packaged_rules_reach_every_programme() -> None:
    assert {rule.programme for rule in default_rules().programmes} == set(Programme)


def test_a_code_may_lead_to_two_programmes_at_different_precedences() -> None:
    rules = default_rules()
    owners = {(r.programme, r.precedence) for r in rules.programmes if "1912002" in r.codes}
    assert owners == {(Programme.STEADY_STEPS, 5), (Programme.EXERCISE_REFERRAL, 8)}


def _set(path: list[str | int], value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _duplicate_at_same_precedence(document: dict[str, Any]) -> None:
    # Hypertension is Exercise Referral's at precedence 7; give it to Steady Steps at 7 as well.
    steps = document["programmes"][_index(document, "steady_steps")]
    steps["precedence"] = 7
    steps["reasons"].insert(0, {"code": "38341003", "display": "Hypertensive disorder"})


def _duplicate_within_a_rule(document: dict[str, Any]) -> None:
    document["programmes"][_index(document, "escape_pain")]["reasons"].append(
        {"code": "239873007", "display": "Osteoarthritis of knee, again"}
    )


BROKEN = [
    ("missing version", lambda d: d.pop("version"), "version: Field required"),
    (
        "unknown programme",
        _set(["programmes", 3, "programme"], "zumba"),
        "programmes[3].programme: Input should be",
    ),
    (
        "unknown programme in a risk band",
        _set(["risk", "high", "programmes"], ["yoga"]),
        "risk.high.programmes[0]: Input should be",
    ),
    (
        "wrong type",
        _set(["programmes", 0, "min_age"], "old"),
        "programmes[0].min_age: Input should be a valid integer",
    ),
    (
        "code written as a number",
        _set(["programmes", 1, "reasons", 0, "code"], 363346000),
        "programmes[1].reasons[0].code: Input should be a valid string",
    ),
    (
        "code that is not a SNOMED id",
        _set(["programmes", 4, "reasons", 0, "code"], "COPD"),
        "programmes[4].reasons[0].code: String should match pattern",
    ),
    (
        "ages the wrong way round",
        _set(["programmes", 2, "max_age"], 10),
        "programmes[2]: Value error, max_age 10",
    ),
    (
        "age beyond any patient",
        _set(["programmes", 0, "min_age"], 200),
        "programmes[0].min_age: Input should be less",
    ),
    (
        "zero threshold",
        _set(["contraindications", "blood_pressure", "systolic_at_least"], 0),
        "contraindications.blood_pressure.systolic_at_least: Input should be greater than 0",
    ),
    (
        "negative deadline",
        _set(["contact_deadline_working_days", "standard"], -1),
        "contact_deadline_working_days.standard: Input should be greater than 0",
    ),
    (
        "prioritised deadline later than standard",
        _set(["contact_deadline_working_days", "prioritised"], 20),
        "contact_deadline_working_days: Value error, the prioritised deadline cannot be later",
    ),
    (
        "risk band that can never apply",
        _set(["risk", "high", "systolic_at_least"], 185),
        "risk.high.systolic_at_least: 185 is at or above the contraindication limit 180",
    ),
    (
        "unknown clinical area",
        _set(["priority", "clinical_areas", "gout"], {"codes": ["90560007"]}),
        "priority.clinical_areas.gout (key): Input should be 'hypertension'",
    ),
    (
        "invalid ethnic category",
        _set(["priority", "ethnic_minority_categories", 0], "I"),
        "priority.ethnic_minority_categories[0]: String should match pattern",
    ),
    (
        "unknown key",
        _set(["programmes", 0, "colour"], "red"),
        "programmes[0].colour: Extra inputs are not permitted",
    ),
    ("no programmes", _set(["programmes"], []), "programmes: List should have at least 1 item"),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_rules_file_is_refused_naming_file_path_and_problem(tmp_path, change, expected) -> None:
    path = _written(tmp_path, change)
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert expected in str(refused.value)


def test_a_code_mapped_to_two_programmes_at_one_precedence_is_refused(tmp_path) -> None:
    path = _written(tmp_path, _duplicate_at_same_precedence)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps, exercise = _index(document, "steady_steps"), _index(document, "exercise_referral", 7)
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    assert str(refused.value) == (
        f"{path}: programmes[{max(steps, exercise)}].reasons[0].code: 38341003 is already mapped to "
        f"{document['programmes'][min(steps, exercise)]['programme']} at precedence 7 "
        f"(programmes[{min(steps, exercise)}].reasons[0])"
    )


def test_a_code_listed_twice_in_one_rule_is_refused(tmp_path) -> None:
    path = _written(tmp_path, _duplicate_within_a_rule)
    with pytest.raises(RulesError, match=r"programmes\[6\]\.reasons\[3\]\.code: 239873007 is already mapped"):
        load_rules(path)


def test_text_that_is_not_yaml_is_refused_with_its_line_and_column(tmp_path) -> None:
    path = tmp_path / "triage-rules.yaml"
    path.write_text('version: "2026.11.1"\nprogrammes: [unclosed\n', encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: line 3, column 1: not valid YAML: ")


def test_a_document_that_is_not_a_mapping_is_refused(tmp_path) -> None:
    path = tmp_path / "triage-rules.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r": \(document\): Input should be a valid dictionary"):
        load_rules(path)


def test_a_missing_file_is_refused_naming_it(tmp_path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(RulesError, match=rf"^{path}: cannot be read"):
        load_rules(path)


def test_the_rules_a_referral_matches_are_those_its_codes_or_facts_name_in_precedence_order() -> None:
    rules = default_rules()
    codes = [*sorted(rules.known_codes), "0000000"]  # and a code no rule knows
    for i, code in enumerate(codes):
        for fact in [None, *Fact]:
            referral_codes = frozenset({code, codes[(i * 7) % len(codes)]})
            facts = frozenset() if fact is None else frozenset({fact})
            every_rule_tried = [
                r for r in rules.by_precedence if r.codes & referral_codes or set(r.facts) & facts
            ]
            assert rules.matching(referral_codes, facts) == every_rule_tried


def test_the_clinical_areas_triggered_are_those_any_trigger_names() -> None:
    priority = default_rules().priority
    codes = [*sorted({c for t in priority.clinical_areas.values() for c in t.codes}), "0000000"]
    for code in codes:
        for fact in [None, *Fact]:
            for group in [None, *PlusGroup]:
                facts = frozenset() if fact is None else frozenset({fact})
                groups = [] if group is None else [group]
                every_area_tried = {
                    area
                    for area, t in priority.clinical_areas.items()
                    if code in t.codes or facts & set(t.facts) or set(groups) & set(t.plus_groups)
                }
                assert priority.areas_triggered(frozenset({code}), facts, groups) == every_area_tried
