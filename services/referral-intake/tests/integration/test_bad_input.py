"""Bad input on the real broker: each gets a precise rejection or a dead letter, valid ones all pass."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from referral_schemas import dump_event, referral_id_for
from servicekit.messaging.broker import create_broker
from servicekit.messaging.dlq_tools import list_dead_letters
from servicekit.testing import with_changes

pytestmark = pytest.mark.infra


async def test_bad_submissions_are_answered_or_dead_lettered_and_good_ones_interleaved_are_accepted(
    intake, submission, make_topic, kafka_bootstrap
):
    topic = await make_topic("submitted", partitions=3)
    good = [submission() for _ in range(6)]
    template = json.loads(dump_event(good[0]))

    def variant(**data_changes):
        doc = with_changes(template, {"event_id": str(uuid.uuid4())})
        doc["data"] = with_changes(
            doc["data"], {"source_referral_id": f"BAD-{uuid.uuid4().hex[:10]}", **data_changes}
        )
        return doc

    wrong_version = variant()
    wrong_version["schema_version"] = 7
    dead = {
        "malformed_json": b'{"event_type": "referral.submitted", ',
        "schema_violation:type": json.dumps(variant(**{"patient.date_of_birth": 19610417})).encode(),
        "schema_violation:missing": json.dumps(
            {k: v for k, v in variant().items() if k != "data"} | {"data": {"source_system": "x"}}
        ).encode(),
        "schema_violation:programme": json.dumps(variant(requested_programme="zumba")).encode(),
        "unsupported_schema_version": json.dumps(wrong_version).encode(),
        "oversized_payload": json.dumps(variant(notes="n" * 1_000_000)).encode(),
    }
    answered = {
        "nhs_number.checksum": variant(**{"patient.nhs_number": "9990000019"}),
        "nhs_number.format": variant(**{"patient.nhs_number": "99900A0018"}),
        "date_of_birth.future": variant(**{"patient.date_of_birth": "2031-01-01"}),
        "postcode.outside_area": variant(**{"patient.postcode": "SW1A 1AA"}),
        "free_text.control_characters": variant(reason_text="feels\x00unwell\x1b[31m"),
        "free_text.too_long": variant(notes="n" * 50_000),
    }
    sql_and_html = variant(
        notes="Robert'); DROP TABLE referrals;-- <script>alert(1)</script>",
        **{"patient.given_name": "<b>Asha</b>"},
    )

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        sends = []
        goods = iter(good)
        for raw in [*dead.values(), *(json.dumps(d).encode() for d in (*answered.values(), sql_and_html))]:
            sends.append(await producer.send(topic, raw, key=b"k"))
            if (g := next(goods, None)) is not None:
                sends.append(await producer.send(topic, dump_event(g), key=b"k"))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()

    broker = create_broker(kafka_bootstrap, service="intake-bad-input-test")
    intake.submissions.subscribe(broker, topic, group_id=f"bad-input-{uuid.uuid4().hex[:6]}")
    expected_rows = len(good) + len(answered) + 1
    await broker.start()
    try:
        async with asyncio.timeout(60):
            while True:
                async with intake.service.pool.acquire() as conn:
                    if await conn.fetchval("SELECT count(*) FROM referrals") >= expected_rows:
                        break
                await asyncio.sleep(0.2)
    finally:
        await broker.stop()

    for g in good:
        row = await intake.row(referral_id_for(g.data.source_system, g.data.source_referral_id))
        assert row["status"] == "accepted"
    for code, doc in answered.items():
        rid = referral_id_for(doc["data"]["source_system"], doc["data"]["source_referral_id"])
        rejected = [e for e in await intake.outbox(rid) if e.event_type == "referral.rejected"]
        assert code in {r.code for r in rejected[0].data.reasons}, code
    rid = referral_id_for(sql_and_html["data"]["source_system"], sql_and_html["data"]["source_referral_id"])
    stored = await intake.row(rid)
    assert stored["status"] == "accepted"
    assert json.loads(stored["submission"])["notes"].startswith("Robert'); DROP TABLE")

    letters = await list_dead_letters(kafka_bootstrap, topic)
    reasons = sorted(dl.reason for dl in letters)
    assert reasons == sorted(code.split(":")[0] for code in dead)
    assert all(dl.detail for dl in letters)
