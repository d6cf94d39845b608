"""Postcodes, districts, centroids and deprivation deciles for LLR, loaded once on first use.

Two derived mappings (everything else is published data, see data/ATTRIBUTION.md):
- An LSOA 2011 code is given the IMD 2025 decile of the LSOA 2021 it became; where it was split,
  the most deprived of its successors, so a referral is never denied priority by a boundary change.
- A postcode's area (when the referral has no LSOA) is its MSOA 2011, whose decile is the median
  of its LSOAs' deciles, taking the more deprived of the two middle values.
"""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import io
import math
import re
from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from referral_schemas.enums import DeprivationSource, District

LAD_DISTRICTS = {
    "E06000016": District.LEICESTER,
    "E06000017": District.RUTLAND,
    "E07000129": District.BLABY,
    "E07000130": District.CHARNWOOD,
    "E07000131": District.HARBOROUGH,
    "E07000132": District.HINCKLEY_AND_BOSWORTH,
    "E07000133": District.MELTON,
    "E07000134": District.NORTH_WEST_LEICESTERSHIRE,
    "E07000135": District.OADBY_AND_WIGSTON,
}
SERVED_DISTRICTS = frozenset(LAD_DISTRICTS.values())

# UK postcode shape: outward code (area letters, district digit, optional digit or letter) and
# inward code (digit, two letters, never C I K M O V).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class PostcodeInfo:
    postcode: str
    district: District | None
    """None when the postcode is outside the nine LLR districts."""
    lad_code: str | None
    msoa11: str | None
    lat: float | None
    long: float | None


@dataclass(frozen=True)
class Deprivation:
    imd_decile: int | None
    source: DeprivationSource


def normalise_postcode(raw: str) -> str | None:
    """`raw` in the standard form ("le15ww" → "LE1 5WW"), or None if it is not a UK postcode shape."""
    if not isinstance(raw, str) or len(raw) > 16:
        return None
    compact = "".join(raw.split()).upper()
    match = _POSTCODE.match(compact)
    return f"{match.group(1)} {match.group(2)}" if match else None


def _table(name: str) -> list[dict[str, str]]:
    data = importlib.resources.files("llr_geo") / "data" / name
    with gzip.open(io.BytesIO(data.read_bytes()), "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class _PostcodeTable:
    """38,000 postcodes held as columns (a row number per postcode), not as 38,000 objects:
    about a tenth of the memory, which matters in services kept under 150 MB."""

    def __init__(self) -> None:
        self.row: dict[str, int] = {}
        self.lad: list[str | None] = []
        self.in_llr: bytearray = bytearray()
        self.msoa: list[str | None] = []
        self.lat = array("d")
        self.long = array("d")
        data = importlib.resources.files("llr_geo") / "data" / "postcodes.csv.gz"
        with gzip.open(io.BytesIO(data.read_bytes()), "rt", encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh)
            next(rows)
            interned: dict[str, str] = {}
            for postcode, lad, msoa, lat, long, in_llr in rows:
                self.row[postcode] = len(self.lad)
                self.lad.append(interned.setdefault(lad, lad) if lad else None)
                self.msoa.append(interned.setdefault(msoa, msoa) if msoa else None)
                self.in_llr.append(in_llr != "N")
                self.lat.append(float(lat) if lat else math.nan)
                self.long.append(float(long) if long else math.nan)

    def get(self, postcode: str) -> PostcodeInfo | None:
        i = self.row.get(postcode)
        if i is None:
            return None
        lad = self.lad[i]
        lat, long = self.lat[i], self.long[i]
        return PostcodeInfo(
            postcode,
            LAD_DISTRICTS.get(lad) if lad and self.in_llr[i] else None,
            lad,
            self.msoa[i],
            None if math.isnan(lat) else lat,
            None if math.isnan(long) else long,
        )


@cache
def _postcodes() -> _PostcodeTable:
    return _PostcodeTable()


@cache
def _lsoa_deciles() -> dict[str, int]:
    return {r["lsoa"]: int(r["imd2025_decile"]) for r in _table("lsoa_deciles.csv.gz")}


@cache
def _msoa_deciles() -> dict[str, int]:
    return {r["msoa11"]: int(r["imd2025_decile"]) for r in _table("msoa_deciles.csv.gz")}


def load() -> None:
    """Read every table now, not on first use: a service calls this while it starts, so that its
    first batch does not wait for the files (about 55 ms) and start-up can freeze the tables out
    of the garbage collector's full collections."""
    _postcodes()
    _lsoa_deciles()
    _msoa_deciles()
    _centroids()


def lookup_postcode(postcode: str) -> PostcodeInfo | None:
    normal = normalise_postcode(postcode)
    return _postcodes().get(normal) if normal else None


def decile_for_lsoa(code: str) -> int | None:
    """IMD 2025 decile (1 = most deprived 10% in England) of an LLR LSOA (2011 or 2021 code)."""
    return _lsoa_deciles().get(code.strip().upper()) if isinstance(code, str) else None


def deprivation_for(postcode: str | None, lsoa: str | None) -> Deprivation:
    """The area's decile: from the LSOA when known, else from the postcode's MSOA, else unknown."""
    if lsoa and (decile := decile_for_lsoa(lsoa)) is not None:
        return Deprivation(decile, DeprivationSource.LSOA)
    info = lookup_postcode(postcode) if postcode else None
    if info is not None and info.msoa11 and (decile := _msoa_deciles().get(info.msoa11)) is not None:
        return Deprivation(decile, DeprivationSource.POSTCODE_MSOA)
    return Deprivation(None, DeprivationSource.UNKNOWN)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance between two (lat, long) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@cache
def _centroids() -> dict[District, tuple[float, float]]:
    points: defaultdict[District, list[tuple[float, float]]] = defaultdict(list)
    table = _postcodes()
    for postcode in table.row:
        info = table.get(postcode)
        if info is not None and info.district is not None and info.lat is not None and info.long is not None:
            points[info.district].append((info.lat, info.long))
    return {d: (sum(p[0] for p in ps) / len(ps), sum(p[1] for p in ps) / len(ps)) for d, ps in points.items()}


def district_centroid(district: District) -> tuple[float, float]:
    """Mean position of the district's postcodes (a population-weighted stand-in for its centre)."""
    return _centroids()[district]


@cache  # nine districts, asked for on every placement
def neighbours_by_distance(district: District) -> tuple[tuple[District, float], ...]:
    """The other LLR districts, nearest centroid first, with the distance in km."""
    here = district_centroid(district)
    others = [(d, distance_km(here, c)) for d, c in _centroids().items() if d is not district]
    return tuple(sorted(others, key=lambda pair: (pair[1], pair[0].value)))


def served_postcodes() -> list[str]:
    """Every postcode in the nine LLR districts, in the table's order."""
    table = _postcodes()
    return [p for p, i in table.row.items() if table.in_llr[i] and table.lad[i] in LAD_DISTRICTS]
