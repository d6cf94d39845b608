"""Constrained value types the payloads share, so that each rule is written once.

Codes, names and contact details here have the shape intake guarantees once it has checked them.
A submission is held to its types only (see `events.referral`): its content problems get a
rejection with reasons, which a schema violation (a dead letter) could not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

# Even strict, pydantic reads a string of digits as a Unix time ("20260302" as 23 August 1970)
# and a midnight date-time as a date. The wire format is ISO 8601 (RFC 3339) text only: text must
# have that shape before pydantic's own parser (lax, to take text) reads it, and from Python only
# a date or an aware date-time passes. Built as pydantic-core schemas so that all of it runs in
# pydantic's compiled validator: a Python validator per field was 5-7% of a service's time.
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"


def _iso_text(pattern: str, example: str, parse: cs.CoreSchema) -> cs.CoreSchema:
    shape = cs.custom_error_schema(
        cs.str_schema(pattern=pattern, strict=True),
        custom_error_type="iso_8601",
        custom_error_message=f"must be an ISO 8601 {example}",
    )
    return cs.chain_schema([shape, parse])


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 exists, but not in UTC; pydantic passes only ValueError on.
        raise ValueError("date-time is out of range once converted to UTC") from None


@dataclass(frozen=True, eq=False)  # hashed by identity: typing hashes Annotated metadata
class _IsoOnly:
    """Marks a date or date-time field as taking ISO 8601 text or the Python value, nothing else."""

    example: str
    pattern: str
    python: cs.CoreSchema  # the value itself, from Python
    parse: cs.CoreSchema  # what reads the text once its shape is right
    json_format: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> cs.CoreSchema:
        text = _iso_text(self.pattern, self.example, self.parse)
        return cs.json_or_python_schema(
            json_schema=text,
            python_schema=cs.union_schema([self.python, text], mode="left_to_right"),
        )

    def __get_pydantic_json_schema__(
        self, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"format": self.json_format, "type": "string"}


def _to_utc(schema: cs.CoreSchema) -> cs.CoreSchema:
    return cs.no_info_after_validator_function(_as_utc, schema)


# Any offset is read, so a producer's local clock is not an error; naive times are refused
# because their instant is unknowable. Every date-time is held in UTC.
UtcDatetime = Annotated[
    datetime,
    _IsoOnly(
        example="date-time, e.g. 2026-03-02T09:12:31Z",
        pattern=_DATETIME_TEXT,
        python=_to_utc(cs.datetime_schema(strict=True, tz_constraint="aware")),
        parse=_to_utc(cs.datetime_schema(strict=False, tz_constraint="aware")),
        json_format="date-time",
    ),
]
Date = Annotated[
    date,
    _IsoOnly(
        example="date, e.g. 2026-03-02",
        pattern=_DATE_TEXT,
        python=cs.date_schema(strict=True),
        parse=cs.date_schema(strict=False),
        json_format="date",
    ),
]

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
