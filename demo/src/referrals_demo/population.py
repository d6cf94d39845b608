"""A synthetic referral population for Leicester, Leicestershire and Rutland.

Patients live at real LLR postcodes (so their district and deprivation come from the real
ONS/MHCLG data triage uses), with an age, sex and ethnic mix shaped like the area's, names from
Faker's en_GB locale, and NHS numbers from the 999 test range. Referrals come from the sources
DESIGN.md names (GP systems, social prescribers, hospital discharge teams) with a condition mix
that reaches every programme; a few carry a mistake intake must reject or a blood pressure
triage must send back. Deterministic for a seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from faker import Faker
from llr_geo import served_postcodes
from referral_schemas import new_envelope
from referral_schemas.enums import SourceType
from referral_schemas.events.referral import ReferralSubmitted
from referral_schemas.examples import example
from referral_schemas.registry import ReferralSubmittedV1

SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class Condition:
    code: str
    display: str
    weight: float
    ages: tuple[int, int]
    sexes: tuple[str, ...] = ("female", "male")


# Why people are referred, roughly as LLR exercise-referral schemes see it.
CONDITIONS = (
    Condition("38341003", "Hypertensive disorder, systemic arterial", 22, (35, 85)),
    Condition("44054006", "Diabetes mellitus type 2", 14, (30, 85)),
    Condition("414916001", "Obesity", 10, (18, 75)),
    Condition("35489007", "Depressive disorder", 9, (18, 75)),
    Condition("197480006", "Anxiety disorder", 5, (18, 70)),
    Condition("239873007", "Osteoarthritis of knee", 9, (50, 90)),
    Condition("13645005", "Chronic obstructive lung disease", 7, (50, 88)),
    Condition("22298006", "Myocardial infarction", 5, (45, 85)),
    Condition("1912002", "Fall", 8, (66, 95)),
    Condition("254837009", "Malignant neoplasm of breast", 4, (35, 80), ("female",)),
    Condition("77386006", "Pregnancy", 4, (20, 42), ("female",)),
    Condition("279039007", "Low back pain", 3, (25, 70)),
)
# NHS ethnic category codes, weighted towards LLR's mix (White British, then Indian).
ETHNICITY = {"A": 56, "B": 2, "C": 4, "H": 16, "J": 3, "K": 1, "L": 2, "M": 1, "N": 3, "P": 1, "S": 3, "Z": 8}
SOURCES = (
    (SourceType.GP, "emis-web", 48),
    (SourceType.GP, "systmone", 22),
    (SourceType.SOCIAL_PRESCRIBER, "elemental-sp", 12),
    (SourceType.HOSPITAL_DISCHARGE, "uhl-discharge", 18),
)
PRACTICES = (
    "C82001",
    "C82007",
    "C82010",
    "C82019",
    "C82027",
    "C82040",
    "C82055",
    "C82063",
    "C82080",
    "C82103",
)
DISCHARGE_REASONS = (CONDITIONS[8], CONDITIONS[6], CONDITIONS[0])


TEST_PATIENTS = 500_000
"""Distinct NHS test numbers `nhs_test_number` gives: a larger population refers them again."""


def nhs_test_number(n: int) -> str:
    """The n-th (n < TEST_PATIENTS) distinct NHS test number (999 range) passing the modulus 11 check.

    Candidates come in pairs 2n, 2n+1: their remainders differ, so at most one of them would
    need the never-issued check digit 10, and no two n share a number.
    """
    for candidate in (999_000_000 + 2 * n, 999_000_000 + 2 * n + 1):
        digits = f"{candidate:09d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            return digits + str(check % 11)
    raise AssertionError("unreachable: one of two consecutive candidates is valid")


@cache
def _postcodes() -> list[str]:
    return served_postcodes()


def referrals(
    count: int,
    *,
    seed: int = 2026,
    today: date | None = None,
    sources: Collection[SourceType] | None = None,
) -> Iterator[ReferralSubmittedV1]:
    """`count` referral.submitted events, about 3% rejected by intake and 2% contraindicated;
    from the referrers of `sources` only, if given (in the same proportions to one another)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible population, not secrets
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    today = today or date.today()
    run = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
    base = example("referral.submitted").data.model_dump(mode="json")
    postcodes = _postcodes()
    referrers = [s for s in SOURCES if sources is None or s[0] in sources]
    if not referrers:
        raise ValueError(f"no referrers of the source types {sorted(sources or ())}")
    for i in range(count):
        source_type, system, _ = rng.choices(referrers, weights=[s[2] for s in referrers])[0]
        discharge = source_type is SourceType.HOSPITAL_DISCHARGE
        condition = rng.choice(DISCHARGE_REASONS) if discharge else _pick(rng)
        sex = rng.choice(condition.sexes)
        age = rng.randint(*condition.ages)
        given = fake.first_name_female() if sex == "female" else fake.first_name_male()
        family = fake.last_name()
        safety: dict[str, object] = {
            "resting_bp_systolic": rng.randint(112, 168),
            "resting_bp_diastolic": rng.randint(68, 98),
        }
        if condition.code == "22298006":
            safety["recent_cardiac_event_date"] = (today - timedelta(days=rng.randint(14, 150))).isoformat()
        if condition.code == "77386006":
            safety["pregnant"] = True
        if condition.code == "254837009":
            safety["surgery_date"] = (today + timedelta(days=rng.randint(21, 60))).isoformat()
        if discharge:
            safety["discharge_date"] = (today - timedelta(days=rng.randint(0, 3))).isoformat()
        if rng.random() < 0.02:
            safety |= {"resting_bp_systolic": 186, "resting_bp_diastolic": 104}  # triage sends it back
        clinician = f"Dr {fake.first_name()} {fake.last_name()}"
        doc = base | {
            "source_system": system,
            "source_referral_id": f"DEMO-{run}-{i:06d}",
            "source_type": source_type.value,
            "referrer": base["referrer"]
            | {
                "ods_code": "RWE" if discharge else rng.choice(PRACTICES),
                "clinician_name": clinician,
                "role": "Discharge coordinator" if discharge else "GP",
                "email": None,
            },
            "patient": {
                # Past the test range's 500,000, patients are referred again (a backfill of a
                # million): a second referral to the same programme is flagged, not refused.
                "nhs_number": nhs_test_number(i % TEST_PATIENTS),
                "given_name": given,
                "family_name": family,
                "date_of_birth": _birth_date(rng, today, age).isoformat(),
                "sex": sex,
                "ethnicity": rng.choices(list(ETHNICITY), weights=list(ETHNICITY.values()))[0],
                "postcode": rng.choice(postcodes),
                "lsoa": None,
                "phone": f"07700 9{rng.randint(0, 99999):05d}",
                "email": f"{given}.{family}@example.org".lower().replace(" ", "").replace("'", ""),
                "address_lines": [fake.street_address()],
            },
            "consent": {
                "share_with_provider": True,
                "recorded_at": f"{today.isoformat()}T08:30:00Z",
                "recorded_by": clinician,
            },
            "reasons": [{"system": SNOMED, "code": condition.code, "display": condition.display}],
            "reason_text": None,
            "requested_programme": None,
            "safety": safety,
            "priority_flags": {
                "learning_disability_autism": rng.random() < 0.03,
                "severe_mental_illness": rng.random() < 0.04,
                "carer": rng.random() < 0.08,
            },
            "notes": None,
        }
        roll = rng.random()
        if roll < 0.015:
            doc["patient"]["nhs_number"] = doc["patient"]["nhs_number"][:9] + "0"  # usually a bad check digit
        elif roll < 0.03:
            doc["patient"]["postcode"] = "SW1A 1AA"  # outside the served area
        data = ReferralSubmitted.model_validate(doc, strict=False)
        yield new_envelope(ReferralSubmittedV1, data, producer=system, referral_id=None)


def _pick(rng: random.Random) -> Condition:
    return rng.choices(CONDITIONS, weights=[c.weight for c in CONDITIONS])[0]


def _birth_date(rng: random.Random, today: date, age: int) -> date:
    return today.replace(year=today.year - age - 1) + timedelta(days=rng.randint(1, 364))
