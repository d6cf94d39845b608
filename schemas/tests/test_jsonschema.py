import json

import pytest
from referral_schemas import EVENTS, parse_event
from referral_schemas.jsonschema_gen import SCHEMA_DIR, check, main, path_for, render, schema_for, write


def test_checked_in_schemas_are_current_and_compatible():
    assert check() == []


def test_the_check_command_passes_on_the_checked_in_schemas(capsys):
    assert main(["--check"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_each_schema_describes_its_envelope_and_holds_a_valid_example(event_type):
    schema = json.loads(path_for(event_type).read_text(encoding="utf-8"))
    assert schema["title"] == f"{event_type}.v1"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert schema["properties"]["event_type"]["const"] == event_type
    [example] = schema["examples"]
    assert parse_event(json.dumps(example).encode(), expected_type=event_type).event_type == event_type


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_every_property_is_documented(event_type):
    schema = schema_for(event_type)
    models = [schema, *schema["$defs"].values()]
    for model in models:
        for name, prop in model.get("properties", {}).items():
            assert prop.get("description"), f"{model.get('title')}.{name}"


def test_rendering_is_stable_sorted_and_ends_with_a_newline():
    schema = schema_for("referral.status")
    text = render(schema)
    assert text == render(json.loads(text)) and text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_check_reports_missing_stale_and_left_over_files(tmp_path):
    assert write(tmp_path) == []
    assert check(tmp_path) == []
    path_for("referral.status", tmp_path).unlink()
    stale = path_for("outcome.kpi", tmp_path)
    stale.write_text(stale.read_text(encoding="utf-8").replace("Which KPI", "Which"), encoding="utf-8")
    (tmp_path / "referral.teleported.v1.json").write_text("{}", encoding="utf-8")
    problems = check(tmp_path)
    assert "referral.status.v1.json: missing (regenerate the schemas)" in problems
    assert "outcome.kpi.v1.json: out of date (regenerate the schemas)" in problems
    assert any(p.startswith("referral.teleported.v1.json: no event") for p in problems)


def test_writing_refuses_a_breaking_change(tmp_path):
    write(tmp_path)
    path = path_for("referral.status", tmp_path)
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["$defs"]["ReferralStatusChanged"]["properties"]["legacy_code"] = {"type": "string"}
    path.write_text(render(schema), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    refused = write(tmp_path)
    assert refused and "legacy_code: property_removed" in refused[0]
    assert path.read_text(encoding="utf-8") == before
    assert any("breaking" in p for p in check(tmp_path))


def test_schemas_live_beside_the_package():
    assert SCHEMA_DIR.name == "jsonschema" and (SCHEMA_DIR.parent / "pyproject.toml").exists()
