"""Constrained value types the payloads share, so that each rule is written once.

Codes, names and contact details here have the shape intake guarantees once it has checked them.
A submission is held to its types only (see `events.referral`): its content problems get a
rejection with reasons, which a schema violation (a dead letter) could not give.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    Strict,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

# Even strict, pydantic reads a string of digits as a Unix time ("20260302" as 23 August 1970)
# and a midnight date-time as a date. The wire format is ISO 8601 (RFC 3339) text only: these
# validators let nothing else reach pydantic's own parser, which is then run in lax mode only
# because strict mode would refuse the text it is given from Python.
_DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _utc_datetime_only(value: Any, parse: ValidatorFunctionWrapHandler) -> Any:
    # One Python call per date-time field does both checks: every event has at least one.
    if isinstance(value, datetime) or (isinstance(value, str) and _DATETIME_TEXT.match(value)):
        return _as_utc(parse(value))
    raise ValueError("must be an ISO 8601 date-time, e.g. 2026-03-02T09:12:31Z")


def _date_only(value: Any, parse: ValidatorFunctionWrapHandler) -> Any:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and _DATE_TEXT.match(value)
    ):
        return parse(value)
    raise ValueError("must be an ISO 8601 date, e.g. 2026-03-02")


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 exists, but not in UTC; pydantic passes only ValueError on.
        raise ValueError("date-time is out of range once converted to UTC") from None


# Any offset is read, so a producer's local clock is not an error; naive times are refused
# because their instant is unknowable.
UtcDatetime = Annotated[AwareDatetime, Strict(False), WrapValidator(_utc_datetime_only)]
Date = Annotated[date, Strict(False), WrapValidator(_date_only)]

# Directory identifiers (providers, services): lower-case slugs, stable across renames.
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]

# A keyed hash (HMAC) of the NHS number or episode, hex or base64url, optionally prefixed.
PseudonymousKey = Annotated[
    str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]

# Machine-readable reason such as "nhs_number.checksum" or "no_capacity".
ReasonCode = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]

# Identifiers chosen by other systems. Control characters are refused because the canonical
# referral id joins source system and source referral id with one (see `ids.referral_id_for`).
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_PRINTABLE)]
SourceSystem = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]

OdsCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3,10}$")]
NhsNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
# Upper case with one space, as the ONS postcode directory writes it.
Postcode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")]
# England LSOA, 2011 or 2021 (both are E01 + 6 digits).
LsoaCode = Annotated[str, StringConstraints(pattern=r"^E01[0-9]{6}$")]
# NHS ethnic category: one letter (A-H, J-N, P, R, S, Z) or 99 for not known.
EthnicCategory = Annotated[str, StringConstraints(pattern=r"^([A-HJ-NPRSZ]|99)$")]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
AddressLine = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
