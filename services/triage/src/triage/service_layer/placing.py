"""Deciding an accepted referral and placing it with a provider that has room.

One decision per referral revision (an older or repeated revision changes nothing). A referral
the rules assign but no provider near the patient can take this month goes back to the
referrer with that reason; a declined or expired assignment is placed again elsewhere, up to a
bounded number of attempts. A cancelled referral gives its place back and is placed no further.

A referral is `placing`, holding the referral.accepted payload (the patient's contact details a
reassignment passes on), until its provider has taken it on; then it is `placed` and the payload
is cleared (`handle_status` says when that is). Its placement stays open: the provider keeps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from referral_schemas import Envelope
from referral_schemas.enums import District, ReferralStatus, TriageDecision
from referral_schemas.events.assignment import AssignmentCreated
from referral_schemas.events.common import Reason
from referral_schemas.events.referral import ReferralAccepted, ReferralTriaged
from referral_schemas.ids import new_random_id
from referral_schemas.registry import AssignmentCreatedV1, ReferralTriagedV1
from triage.adapters.capacity import Key
from triage.adapters.placements import Placement, TriagedReferral
from triage.adapters.unit_of_work import TriageUnitOfWork
from triage.directory.matching import Candidate, candidates
from triage.directory.model import Directory
from triage.domain.decide import DeprivationLookup, decide
from triage.domain.rules import Rules

PRODUCER = "triage"


class Neighbours(Protocol):
    def __call__(self, district: District) -> Sequence[tuple[District, float]]: ...


class Deadlines(Protocol):
    def __call__(self, start: datetime, working_days: int) -> datetime: ...


@dataclass(frozen=True)
class TriageContext:
    rules: Callable[[], Rules]
    """The rules in force (the last good ones, if a reload failed)."""
    directory: Callable[[], Directory]
    deprivation: DeprivationLookup
    neighbours: Neighbours
    deadline: Deadlines
    max_attempts: int = 5
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------------------- referral.accepted
async def handle_accepted(event: Envelope[Any], uow: TriageUnitOfWork, ctx: TriageContext) -> None:
    accepted: ReferralAccepted = event.data
    rid = event.referral_id
    assert rid is not None
    existing = await uow.referrals.get(rid)
    if existing is not None and (existing.revision >= accepted.revision or existing.state == "cancelled"):
        return
    now = ctx.now()
    decision = decide(accepted, rules=ctx.rules(), deprivation=ctx.deprivation, today=now.date())
    triaged = decision.triaged
    open_placement = _open_placement(await uow.referrals.placements(rid))
    state = {
        TriageDecision.ASSIGN: "placing",
        TriageDecision.SIGNPOST: "signposted",
        TriageDecision.RETURN_TO_REFERRER: "returned",
    }[triaged.decision]
    if triaged.decision is TriageDecision.ASSIGN and open_placement is None:
        await _start_placing(
            uow,
            ctx,
            event,
            accepted,
            triaged,
            working_days=decision.contact_deadline_working_days,
            attempt=1,
            tried=frozenset(),
            previous=None,
            referral=None,
        )
        return
    if open_placement is not None:
        # An update while a provider already holds the referral: the placement stands (the
        # provider sees the referral's later events), only the decision is restated. A referral
        # already placed needs no provider again, so it does not take the contact details back.
        state = "placed" if existing is not None and existing.state == "placed" else "placing"
    uow.referrals.save(
        TriagedReferral(
            rid,
            accepted.revision,
            state,
            triaged.model_dump_json(),
            accepted.model_dump_json() if state == "placing" else None,
        )
    )
    _publish(uow, event, rid, ReferralTriagedV1, triaged)


# ---------------------------------------------------------------------------- declined / expired
async def prefetch_by_referral(
    events: Sequence[Envelope[Any]], uow: TriageUnitOfWork, ctx: TriageContext
) -> None:
    await uow.referrals.prefetch(e.referral_id for e in events if e.referral_id is not None)


async def handle_reassignment(event: Envelope[Any], uow: TriageUnitOfWork, ctx: TriageContext) -> None:
    """A provider declined, or let the deadline pass: give the place back and try the next one."""
    rid = event.referral_id
    assert rid is not None
    referral = await uow.referrals.get(rid)
    placements = await uow.referrals.placements(rid)
    placement = next((p for p in placements if p.assignment_id == event.data.assignment_id), None)
    if referral is None or placement is None:
        raise LookupError(
            f"{event.event_type} names assignment {event.data.assignment_id}, which triage never made"
        )
    if placement.state != "open":
        return  # already handled (a repeat, or the referral was cancelled meanwhile)
    placement.state = "declined" if event.event_type == "assignment.declined" else "expired"
    uow.referrals.save_placement(placement)
    await uow.capacity.load(ctx.directory(), [placement.capacity_key])
    uow.capacity.release(placement.capacity_key)
    if referral.state != "placing" or referral.accepted is None:
        return
    # Read back in JSON mode, where the strict contracts take enum values as text.
    accepted = ReferralAccepted.model_validate_json(referral.accepted)
    triaged = ReferralTriaged.model_validate_json(referral.decision)
    attempt = max(p.attempt for p in placements) + 1
    if attempt > ctx.max_attempts:
        _unplaced(uow, event, rid, accepted.revision, triaged, attempts_exhausted=True)
        return
    await _start_placing(
        uow,
        ctx,
        event,
        accepted,
        triaged,
        working_days=ctx.rules().contact_deadline_days(triaged.priority.prioritised),
        attempt=attempt,
        tried=frozenset(p.service_id for p in placements),
        previous=placement.assignment_id,
        referral=referral,
    )


# ---------------------------------------------------------------------------- status stream
# Placing is over once no decline or expiry can follow, since reassignment needs the contact
# details. Provider-notify takes a decline until the provider has contacted the patient, so
# accepted_by_provider is too early: a decline may still come, on another topic and so in either
# order with it. Triage consumes no provider.activity and the status stream has no "contacted";
# these are the first statuses it carries from after contact (closed also ends a referral the
# provider had only accepted, finally).
PLACED_STATUSES = frozenset({ReferralStatus.STARTED, ReferralStatus.COMPLETED, ReferralStatus.CLOSED})


def acts_on_status(event: Envelope[Any]) -> bool:
    """Whether a referral.status event is one `handle_status` acts on: most of the stream
    (received, triaged, assigned, ...) is passed over before it costs a transaction's work."""
    return event.referral_id is not None and (
        event.data.status in PLACED_STATUSES or event.data.status is ReferralStatus.CANCELLED
    )


async def handle_status(event: Envelope[Any], uow: TriageUnitOfWork, ctx: TriageContext) -> None:
    """A cancellation stops placing and gives back any place held; the provider taking the
    referral on ends placing, and with it the need for the patient's contact details."""
    if event.referral_id is None:
        return
    if event.data.status in PLACED_STATUSES:
        await _placed(event.referral_id, uow)
    elif event.data.status is ReferralStatus.CANCELLED:
        await _cancel(event.referral_id, uow, ctx)


async def _placed(rid: uuid.UUID, uow: TriageUnitOfWork) -> None:
    referral = await uow.referrals.get(rid)
    if referral is None or referral.state != "placing":
        return  # a repeat, or a referral triage is not placing (cancelled meanwhile)
    referral.state, referral.accepted = "placed", None
    uow.referrals.save(referral)


async def _cancel(rid: uuid.UUID, uow: TriageUnitOfWork, ctx: TriageContext) -> None:
    referral = await uow.referrals.get(rid)
    if referral is None or referral.state == "cancelled":
        return
    for placement in await uow.referrals.placements(rid):
        if placement.state == "open":
            placement.state = "cancelled"
            uow.referrals.save_placement(placement)
            await uow.capacity.load(ctx.directory(), [placement.capacity_key])
            uow.capacity.release(placement.capacity_key)
    referral.state, referral.accepted = "cancelled", None
    uow.referrals.save(referral)


# ---------------------------------------------------------------------------- placing
def _open_placement(placements: Sequence[Placement]) -> Placement | None:
    return next((p for p in placements if p.state == "open"), None)


async def _start_placing(
    uow: TriageUnitOfWork,
    ctx: TriageContext,
    cause: Envelope[Any],
    accepted: ReferralAccepted,
    triaged: ReferralTriaged,
    *,
    working_days: int,
    attempt: int,
    tried: frozenset[str],
    previous: uuid.UUID | None,
    referral: TriagedReferral | None,
) -> None:
    """Load the capacity of the services that may take the referral, best first, and reserve
    the first with room (or return the referral); the reservation is settled at commit."""
    assert triaged.programme is not None
    assert triaged.risk is not None
    assert cause.referral_id is not None
    now = ctx.now()
    period = period_of(now.date())
    directory = ctx.directory()
    options: list[Candidate] = candidates(
        directory,
        programme=triaged.programme,
        risk=triaged.risk,
        age=accepted.demographics.age_years,
        district=triaged.district,
        neighbours=ctx.neighbours(triaged.district),
        exclude_services=tried,
    )
    programme = triaged.programme.value
    choices: dict[Key, Candidate] = {(c.service.id, programme, period): c for c in options}
    await uow.capacity.load(directory, choices)
    _Placing(
        uow,
        cause,
        cause.referral_id,
        accepted,
        triaged,
        referral,
        attempt,
        previous,
        ctx.deadline(now, working_days),
        choices,
    ).reserve()


@dataclass(eq=False)
class _Placing:
    """A referral being placed in this batch, with what its placement needs until commit: if
    another instance took its place meanwhile, the capacity ledger moves it to its next option
    with room (`moved`), and only this referral's rows and events are restated, where the whole
    batch used to be applied again."""

    uow: TriageUnitOfWork
    cause: Envelope[Any]
    rid: uuid.UUID
    accepted: ReferralAccepted
    triaged: ReferralTriaged
    referral: TriagedReferral | None
    """The referral's row; None for a first placement, which writes it and publishes the decision
    (a reassignment's decision was published before)."""
    attempt: int
    previous: uuid.UUID | None
    contact_deadline: datetime
    choices: dict[Key, Candidate]
    placement: Placement | None = None
    assignment_event: uuid.UUID | None = None
    decision_event: uuid.UUID | None = None

    @property
    def options(self) -> list[Key]:
        return list(self.choices)

    @property
    def movable(self) -> bool:
        # A later event in the batch (a cancellation, a new revision) may have changed the
        # referral since: moving it then could undo that, so the batch is applied again instead.
        return (
            self.placement is not None
            and self.placement.state == "open"
            and self.referral is not None
            and self.uow.referrals.held(self.rid) is self.referral
            and self.referral.state == "placing"
        )

    def reserve(self) -> None:
        ledger = self.uow.capacity
        self._place(next((k for k in self.choices if ledger.try_reserve(k, self)), None))

    def moved(self, to: Key | None) -> None:
        assert self.placement is not None
        assert self.assignment_event is not None
        self.uow.referrals.drop_placement(self.placement)
        self.uow.outbox.discard(self.assignment_event)
        if to is None and self.decision_event is not None:
            self.uow.outbox.discard(self.decision_event)  # restated below as a return
        self._place(to)

    def _place(self, key: Key | None) -> None:
        uow, rid, accepted, triaged = self.uow, self.rid, self.accepted, self.triaged
        if key is None:
            _unplaced(uow, self.cause, rid, accepted.revision, triaged)
            return
        if self.referral is None:
            self.referral = TriagedReferral(
                rid, accepted.revision, "placing", triaged.model_dump_json(), accepted.model_dump_json()
            )
            uow.referrals.save(self.referral)
            self.decision_event = _publish(uow, self.cause, rid, ReferralTriagedV1, triaged).event_id
        assert triaged.programme is not None
        assert triaged.risk is not None
        chosen = self.choices[key]
        assignment_id = new_random_id()
        self.placement = Placement(
            rid,
            self.attempt,
            assignment_id,
            chosen.service.id,
            chosen.service.organization_id,
            triaged.programme.value,
            key[2],
            "open",
        )
        uow.referrals.add_placement(self.placement)
        assignment = AssignmentCreated(
            assignment_id=assignment_id,
            attempt=self.attempt,
            provider_id=chosen.service.organization_id,
            service_id=chosen.service.id,
            programme=triaged.programme,
            risk=triaged.risk,
            prioritised=triaged.priority.prioritised,
            contact_deadline=self.contact_deadline,
            patient_key=accepted.patient_key,
            contact=accepted.contact,
            referrer_ods_code=accepted.referrer_ods_code,
            reasons=accepted.reasons,
            reason_text=accepted.reason_text,
            safety=accepted.safety,
            reassigned_from=self.previous,
            fallback_district=chosen.district if chosen.fallback else None,
        )
        self.assignment_event = _publish(uow, self.cause, rid, AssignmentCreatedV1, assignment).event_id


def _unplaced(
    uow: TriageUnitOfWork,
    cause: Envelope[Any],
    rid: uuid.UUID,
    revision: int,
    triaged: ReferralTriaged,
    *,
    attempts_exhausted: bool = False,
) -> None:
    """No provider can take the referral: it goes back to the referrer, with the reason."""
    returned = _no_room(triaged, attempts_exhausted=attempts_exhausted)
    uow.referrals.save(TriagedReferral(rid, revision, "unplaced", returned.model_dump_json(), None))
    _publish(uow, cause, rid, ReferralTriagedV1, returned)


def _no_room(triaged: ReferralTriaged, *, attempts_exhausted: bool = False) -> ReferralTriaged:
    reason = (
        Reason(
            code="placement.attempts_exhausted",
            field=None,
            message="Providers near the patient declined or did not answer too many times.",
        )
        if attempts_exhausted
        else Reason(
            code="placement.no_capacity",
            field=None,
            message="No provider in or near the patient's district has room for this programme this month.",
        )
    )
    return triaged.model_copy(
        update={
            "decision": TriageDecision.RETURN_TO_REFERRER,
            "reasons": [*triaged.reasons, reason][-50:],
        }
    )


def _publish(
    uow: TriageUnitOfWork, cause: Envelope[Any], rid: uuid.UUID, envelope_type: Any, data: Any
) -> Envelope[Any]:
    return uow.emit(envelope_type, data, producer=PRODUCER, referral_id=rid, caused_by=cause)
