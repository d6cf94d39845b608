"""The FHIR API and the referral view, served by uvicorn on a loopback port."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from referral_intake.bootstrap import bootstrap
from servicekit.testing import reset_schema

pytestmark = pytest.mark.infra

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhir"
TOKENS = {"C82001": "token-for-c82001", "Y00001": "token-for-another-practice", "operator": "ops-token"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def api(test_database_url, kafka_bootstrap, intake_settings):
    reset_schema(test_database_url, "referral-intake")
    port = _free_port()
    keys = {who: hashlib.sha256(token.encode()).hexdigest() for who, token in TOKENS.items()}
    settings = intake_settings(
        test_database_url, kafka_bootstrap, http_port=port, api_keys=keys, max_http_body_bytes=64 * 1024
    )
    # Only the HTTP side: the consumers would read the shared topics of the local stack.
    service = bootstrap(settings, today=lambda: date(2026, 3, 2), consume=False)
    server = uvicorn.Server(uvicorn.Config(service.asgi(), host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        async with asyncio.timeout(60):
            while not server.started:
                await asyncio.sleep(0.05)
        yield client
    server.should_exit = True
    await task


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}", "Content-Type": "application/fhir+json"}


async def test_a_bars_bundle_is_accepted_and_its_timeline_is_visible_to_its_referrer(api):
    body = (FIXTURES / "bars-message-bundle-valid.json").read_bytes()
    posted = await api.post("/fhir/$process-message", content=body, headers=auth("C82001"))
    assert posted.status_code == 201, posted.text
    outcome = posted.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "accepted" in outcome["issue"][0]["diagnostics"]
    location = posted.headers["Location"]

    view = await api.get(location, headers=auth("C82001"))
    assert view.status_code == 200
    doc = view.json()
    assert doc["status"] == "accepted"
    assert [t["status"] for t in doc["timeline"]] == ["received", "accepted"]
    assert "nhs_number" not in json.dumps(doc)

    again = await api.post("/fhir/$process-message", content=body, headers=auth("C82001"))
    assert again.status_code == 200
    assert "changed nothing" in again.json()["issue"][0]["diagnostics"]


def coded_service_request() -> bytes:
    """The valid ServiceRequest fixture with a coded reason (hypertension), which it lacks."""
    doc = json.loads((FIXTURES / "servicerequest-valid.json").read_text())
    doc["reasonCode"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]}]
    return json.dumps(doc).encode()


async def test_another_referrer_cannot_see_the_referral_but_an_operator_can(api):
    body = coded_service_request()
    posted = await api.post("/fhir/ServiceRequest", content=body, headers=auth("C82001"))
    assert posted.status_code == 201, posted.text
    location = posted.headers["Location"]
    assert (await api.get(location, headers=auth("Y00001"))).status_code == 404
    assert (await api.get(location, headers=auth("operator"))).status_code == 200


async def test_requests_without_a_valid_token_get_401(api):
    body = (FIXTURES / "servicerequest-valid.json").read_bytes()
    assert (await api.post("/fhir/ServiceRequest", content=body)).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert (await api.post("/fhir/ServiceRequest", content=body, headers=wrong)).status_code == 401
    assert (await api.get("/referrals/00000000-0000-0000-0000-000000000000")).status_code == 401


async def test_a_referrer_cannot_submit_in_another_practices_name(api):
    body = (FIXTURES / "servicerequest-valid.json").read_bytes()
    posted = await api.post("/fhir/ServiceRequest", content=body, headers=auth("Y00001"))
    assert posted.status_code == 403


async def test_the_shared_bars_example_gets_400_naming_the_paths_at_fault(api):
    body = (FIXTURES / "bars-servicerequest-example.json").read_bytes()
    posted = await api.post("/fhir/ServiceRequest", content=body, headers=auth("C82001"))
    assert posted.status_code == 400
    expressions = [e for issue in posted.json()["issue"] for e in issue.get("expression", [])]
    assert any("PatientInstruction" in e for e in expressions)
    assert any("basedOn" in e for e in expressions)


async def test_malformed_and_oversized_bodies_are_refused_precisely(api):
    bad = await api.post("/fhir/ServiceRequest", content=b"{not json", headers=auth("C82001"))
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["severity"] == "error"
    big = b'{"resourceType": "ServiceRequest", "note": [{"text": "' + b"x" * 70_000 + b'"}]}'
    too_big = await api.post("/fhir/ServiceRequest", content=big, headers=auth("C82001"))
    assert too_big.status_code == 413


async def test_a_referral_failing_the_checks_gets_422_with_reason_codes(api):
    text = coded_service_request().decode()
    assert '"LE1 5WW"' in text
    text = text.replace('"LE1 5WW"', '"SW1A 1AA"')
    posted = await api.post("/fhir/ServiceRequest", content=text.encode(), headers=auth("C82001"))
    assert posted.status_code == 422, posted.text
    diagnostics = " ".join(i["diagnostics"] for i in posted.json()["issue"])
    assert "postcode.outside_area" in diagnostics


async def test_health_and_readiness_answer(api):
    assert (await api.get("/health")).json()["status"] == "ok"
    ready = await api.get("/ready")
    assert ready.status_code == 200, ready.text
