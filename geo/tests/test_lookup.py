"""Real LLR reference data: postcodes, districts, deprivation routes and distances."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llr_geo import (
    SERVED_DISTRICTS,
    decile_for_lsoa,
    deprivation_for,
    district_centroid,
    lookup_postcode,
    neighbours_by_distance,
    normalise_postcode,
)
from referral_schemas.enums import DeprivationSource, District


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("LE1 5WW", "LE1 5WW"),
        ("le15ww", "LE1 5WW"),
        ("  le1   5ww ", "LE1 5WW"),
        ("LE67 3SJ", "LE67 3SJ"),
        ("SW1A1AA", "SW1A 1AA"),
        ("LE1", None),
        ("12345", None),
        ("LE1 5W", None),
        ("LE1 5CI", None),  # C and I never end a postcode
        ("1E1 5WW", None),
        ("", None),
    ],
)
def test_postcodes_are_normalised_or_refused(raw, expected):
    assert normalise_postcode(raw) == expected


@given(st.text(max_size=30))
def test_normalising_never_raises_and_is_idempotent(raw):
    once = normalise_postcode(raw)
    assert once is None or normalise_postcode(once) == once


def test_a_leicester_postcode_maps_to_its_district_msoa_and_centroid():
    info = lookup_postcode("le1 5ww")
    assert info is not None
    assert info.district is District.LEICESTER
    assert info.msoa11 == "E02006850"
    assert info.lat == pytest.approx(52.6268)


def test_a_postcode_outside_llr_has_no_district():
    rugby = lookup_postcode("LE10 3AZ")  # an LE postcode in Rugby, Warwickshire
    assert rugby is not None
    assert rugby.lad_code == "E07000220"
    assert rugby.district is None
    assert lookup_postcode("SW1A 1AA") is None  # not in the packaged data at all


def test_lsoa_deciles_come_from_imd_2025_and_a_split_2011_area_takes_its_most_deprived_successor():
    assert decile_for_lsoa("E01013600") == 1
    successors = [decile_for_lsoa(c) for c in ("E01034010", "E01034011", "E01034012")]
    assert decile_for_lsoa("E01013607") == min(d for d in successors if d is not None)
    assert decile_for_lsoa("E01999999") is None


def test_deprivation_prefers_the_lsoa_then_the_postcode_area_then_unknown():
    assert deprivation_for("LE1 5WW", "E01013600").source is DeprivationSource.LSOA
    by_postcode = deprivation_for("LE1 5WW", None)
    assert by_postcode.source is DeprivationSource.POSTCODE_MSOA
    assert by_postcode.imd_decile is not None
    assert deprivation_for("LE1 5WW", "E01999999").source is DeprivationSource.POSTCODE_MSOA
    assert deprivation_for(None, None).source is DeprivationSource.UNKNOWN
    assert deprivation_for("ZZ9 9ZZ", None).imd_decile is None


def test_every_district_has_a_centroid_inside_llr():
    assert len(SERVED_DISTRICTS) == 9
    for district in SERVED_DISTRICTS:
        lat, long = district_centroid(district)
        assert 52.3 < lat < 52.9
        assert -1.7 < long < -0.4


def test_rutland_is_nearer_melton_and_harborough_than_hinckley():
    order = [d for d, _ in neighbours_by_distance(District.RUTLAND)]
    assert order.index(District.MELTON) < order.index(District.HINCKLEY_AND_BOSWORTH)
    assert order.index(District.HARBOROUGH) < order.index(District.HINCKLEY_AND_BOSWORTH)
    assert District.RUTLAND not in order


def test_after_load_lookups_read_no_file(monkeypatch):
    from llr_geo import lookup

    for cached in (lookup._postcodes, lookup._lsoa_deciles, lookup._msoa_deciles, lookup._centroids):
        cached.cache_clear()
    lookup.load()

    def no_file(*_: object) -> None:
        raise AssertionError("a lookup read a data file after load()")

    monkeypatch.setattr(lookup, "_table", no_file)
    monkeypatch.setattr(lookup, "_PostcodeTable", no_file)
    assert lookup_postcode("LE1 5WW") is not None
    assert deprivation_for("LE1 5WW", None).imd_decile is not None
    assert district_centroid(District.BLABY)
