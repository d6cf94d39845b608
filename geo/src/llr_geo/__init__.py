"""LLR reference geography: postcodes, districts, centroids and deprivation (ONS, MHCLG; OGL v3.0)."""

from llr_geo.lookup import (
    SERVED_DISTRICTS,
    Deprivation,
    PostcodeInfo,
    decile_for_lsoa,
    deprivation_for,
    distance_km,
    district_centroid,
    load,
    lookup_postcode,
    neighbours_by_distance,
    normalise_postcode,
    served_postcodes,
)

__all__ = [
    "SERVED_DISTRICTS",
    "Deprivation",
    "PostcodeInfo",
    "decile_for_lsoa",
    "deprivation_for",
    "distance_km",
    "district_centroid",
    "load",
    "lookup_postcode",
    "neighbours_by_distance",
    "normalise_postcode",
    "served_postcodes",
]
