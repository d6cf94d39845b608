"""Synthetic referral submissions for benchmarks: valid NHS test numbers, real LLR postcodes.

Deterministic for a seed, so two runs submit the same referrals. About `invalid_share` of them
carry one realistic mistake (wrong check digit, out-of-area postcode, no consent), which intake
must answer with a rejection.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

from referral_schemas import new_envelope
from referral_schemas.enums import District
from referral_schemas.examples import example
from referral_schemas.registry import ReferralAcceptedV1, ReferralSubmittedV1
from referrals_demo.population import nhs_test_number

# Three real postcodes from each of the nine LLR districts, alphabetical by district (ONS
# postcode to MSOA lookup and NSPL centroids, OGL; see geo/src/llr_geo/data/ATTRIBUTION.md).
POSTCODES = [
    *("LE3 2PU", "LE8 4EG", "LE8 3QT"),
    *("LE11 2YQ", "LE12 8XD", "LE7 7QJ"),
    *("LE17 6QD", "LE8 0JQ", "LE7 9WN"),
    *("CV13 6EH", "LE67 9SD", "CV13 0DT"),
    *("LE5 1FY", "LE3 1GR", "LE5 6HR"),
    *("LE13 1JH", "LE13 1BL", "LE14 4PP"),
    *("LE67 3SJ", "LE67 6NW", "LE67 8AA"),
    *("LE8 2LA", "LE8 1LT", "LE18 4LY"),
    *("LE15 7AG", "LE15 9SW", "LE15 6NQ"),
]
CONDITIONS = [
    ("38341003", "Hypertensive disorder, systemic arterial"),
    ("44054006", "Diabetes mellitus type 2"),
    ("35489007", "Depressive disorder"),
    ("414916001", "Obesity"),
    ("239873007", "Osteoarthritis of knee"),
]


def submissions(count: int, *, seed: int = 7, invalid_share: float = 0.1) -> Iterator[ReferralSubmittedV1]:
    rng = random.Random(seed)
    base = example("referral.submitted").data
    run = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
    for i in range(count):
        code, display = rng.choice(CONDITIONS)
        patient = base.patient.model_copy(
            update={
                "nhs_number": nhs_test_number(i),
                "postcode": rng.choice(POSTCODES),
                "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60)),
            }
        )
        consent = base.consent
        roll = rng.random()
        if roll < invalid_share / 3:
            patient = patient.model_copy(update={"nhs_number": patient.nhs_number[:9] + "X"})
        elif roll < 2 * invalid_share / 3:
            patient = patient.model_copy(update={"postcode": "SW1A 1AA"})
        elif roll < invalid_share:
            consent = consent.model_copy(update={"share_with_provider": False})
        data = base.model_copy(
            update={
                "source_referral_id": f"BENCH-{run}-{i:07d}",
                "patient": patient,
                "consent": consent,
                "reasons": [base.reasons[0].model_copy(update={"code": code, "display": display})],
                "requested_programme": None,
            }
        )
        yield new_envelope(ReferralSubmittedV1, data, producer="bench-gp", referral_id=None)


ACCEPTED_CODES = [*(c for c, _ in CONDITIONS), "22298006", "13645005", "1912002", "239872002", "43116000"]


def accepted_referrals(count: int, *, seed: int = 7) -> Iterator[ReferralAcceptedV1]:
    """referral.accepted events as intake would publish them: all districts, a realistic code mix."""
    rng = random.Random(seed)
    base = example("referral.accepted").data
    districts = list(District)
    for _ in range(count):
        code = rng.choice(ACCEPTED_CODES)
        data = base.model_copy(
            update={
                "requested_programme": None,
                "reasons": [base.reasons[0].model_copy(update={"code": code})],
                "residence": base.residence.model_copy(
                    update={"district": rng.choice(districts), "lsoa": None}
                ),
                "demographics": base.demographics.model_copy(update={"age_years": rng.randrange(18, 95)}),
            }
        )
        yield new_envelope(
            ReferralAcceptedV1, data, producer="bench-intake", referral_id=uuid.UUID(int=rng.getrandbits(128))
        )
