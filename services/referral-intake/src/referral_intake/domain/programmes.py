"""What intake requires of a referral that asks for a particular programme.

Intake only checks what a referral must carry before anyone can decide on it; triage's rules
choose the programme and judge contraindications. The table below is versioned data: change a
row and the version together, and keep it in step with triage's rules (`triage-rules.yaml`).

Rules version intake-2026.11.1, by programme (ages in whole years, inclusive):

- exercise_referral, 16 and over: adults and older teenagers with long-term conditions. Needs a
  resting blood pressure, because a high reading is a contraindication to exercise.
- cardiopulmonary_rehab, 18 and over: adult cardiac and pulmonary rehabilitation. Needs a resting
  blood pressure, and either the date of the recent cardiac event or explicit answers on unstable
  angina and uncontrolled arrhythmia (an answer of "no" to both counts as saying there is none).
- escape_pain, 45 and over: ESCAPE-Pain is for chronic knee and hip pain, commissioned for people
  of 45 and over.
- steady_steps, 65 and over: falls prevention for older people who have fallen or fear falling.
  Some schemes take people from 50 with a falls history; intake keeps the plain 65+ rule and
  leaves exceptions to the referrer's conversation with the provider.
- fit4surgery, 18 and over: prehabilitation before surgery or cancer treatment; needs the planned
  date.
- pre_post_natal, 16 to 55: needs the referral to say the patient is pregnant or within 12 months
  after birth.
- discharge_to_assess, 18 and over: adult reablement after a hospital stay; needs the discharge
  date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from referral_schemas.enums import Programme
from referral_schemas.events.common import SafetyAsSubmitted

RULES_VERSION = "intake-2026.11.1"

# Demographics.age_years tops out at 130; no programme can reasonably ask for more.
_OLDEST = 130


@dataclass(frozen=True)
class ProgrammeRequirements:
    """Who a programme is for and which safety facts a referral to it must carry."""

    min_age: int
    max_age: int | None = None
    needs_blood_pressure: bool = False
    needs_cardiac_history: bool = False
    needs_discharge_date: bool = False
    needs_surgery_date: bool = False
    needs_pregnancy_status: bool = False

    def __post_init__(self) -> None:
        upper = _OLDEST if self.max_age is None else self.max_age
        if not 0 <= self.min_age <= upper <= _OLDEST:
            raise ValueError(f"age range {self.min_age}-{self.max_age} is not within 0-{_OLDEST}")

    def admits_age(self, age: int) -> bool:
        """Whether a patient of `age` whole years is in the programme's range."""
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)

    def describe_ages(self) -> str:
        """The age range in words, e.g. "aged 16 to 55" or "aged 65 or over"."""
        if self.max_age is None:
            return f"aged {self.min_age} or over"
        return f"aged {self.min_age} to {self.max_age}"


@dataclass(frozen=True)
class ProgrammeRules:
    """The whole table, with its version; refuses a table that leaves a programme out."""

    version: str
    requirements: Mapping[Programme, ProgrammeRequirements]

    def __post_init__(self) -> None:
        missing = set(Programme) - set(self.requirements)
        if missing:
            raise ValueError(f"no intake requirements for {sorted(p.value for p in missing)}")
        if not self.version:
            raise ValueError("the rules need a version")

    def __getitem__(self, programme: Programme) -> ProgrammeRequirements:
        return self.requirements[programme]


_P = Programme
PROGRAMME_RULES = ProgrammeRules(
    version=RULES_VERSION,
    requirements=MappingProxyType(
        {
            _P.EXERCISE_REFERRAL: ProgrammeRequirements(16, needs_blood_pressure=True),
            _P.CARDIOPULMONARY_REHAB: ProgrammeRequirements(
                18, needs_blood_pressure=True, needs_cardiac_history=True
            ),
            _P.ESCAPE_PAIN: ProgrammeRequirements(45),
            _P.STEADY_STEPS: ProgrammeRequirements(65),
            _P.FIT4SURGERY: ProgrammeRequirements(18, needs_surgery_date=True),
            _P.PRE_POST_NATAL: ProgrammeRequirements(16, 55, needs_pregnancy_status=True),
            _P.DISCHARGE_TO_ASSESS: ProgrammeRequirements(18, needs_discharge_date=True),
        }
    ),
)


@dataclass(frozen=True)
class MissingFact:
    """A safety fact a programme needs that the referral lacks; `field` is under `safety`."""

    code: str
    field: str
    message: str


def missing_safety(programme: Programme, safety: SafetyAsSubmitted) -> list[MissingFact]:
    """Each safety fact `programme` needs that `safety` does not give."""
    req = PROGRAMME_RULES[programme]
    name = programme_name(programme)
    out: list[MissingFact] = []
    if req.needs_blood_pressure and None in (safety.resting_bp_systolic, safety.resting_bp_diastolic):
        # One reason for the reading, pointing at the first half that is missing.
        field = "resting_bp_systolic" if safety.resting_bp_systolic is None else "resting_bp_diastolic"
        out.append(
            MissingFact("safety.bp_missing", field, f"{name} needs a resting blood pressure (both figures).")
        )
    answered_both = safety.unstable_angina is not None and safety.uncontrolled_arrhythmia is not None
    if req.needs_cardiac_history and safety.recent_cardiac_event_date is None and not answered_both:
        out.append(
            MissingFact(
                "safety.cardiac_history_missing",
                "recent_cardiac_event_date",
                f"{name} needs the date of the cardiac event, or answers on unstable angina"
                " and uncontrolled arrhythmia.",
            )
        )
    if req.needs_discharge_date and safety.discharge_date is None:
        out.append(
            MissingFact(
                "safety.discharge_date_missing", "discharge_date", f"{name} needs the discharge date."
            )
        )
    if req.needs_surgery_date and safety.surgery_date is None:
        out.append(
            MissingFact(
                "safety.surgery_date_missing",
                "surgery_date",
                f"{name} needs the date of the planned surgery or treatment.",
            )
        )
    if req.needs_pregnancy_status and not (safety.pregnant or safety.postnatal):
        out.append(
            MissingFact(
                "safety.pregnancy_status_missing",
                "pregnant",
                f"{name} is for people who are pregnant or within 12 months after giving birth.",
            )
        )
    return out


def programme_name(programme: Programme) -> str:
    """The programme as people write it, for messages."""
    return _NAMES[programme]


_NAMES: Mapping[Programme, str] = MappingProxyType(
    {
        _P.EXERCISE_REFERRAL: "Exercise Referral",
        _P.CARDIOPULMONARY_REHAB: "Cardiopulmonary Rehabilitation",
        _P.ESCAPE_PAIN: "ESCAPE-Pain",
        _P.STEADY_STEPS: "Steady Steps",
        _P.FIT4SURGERY: "Fit4Surgery",
        _P.PRE_POST_NATAL: "Pre and Post Natal",
        _P.DISCHARGE_TO_ASSESS: "Discharge to Assess",
    }
)
