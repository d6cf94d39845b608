"""Rebuild the packaged tables from the shared source files (reproducible reduction).

    uv run python -m llr_geo.build_data /path/to/shared/data/geo

Only rows are filtered, tables joined and columns dropped; deciles are the published ones,
except the two derived mappings explained in `lookup.py` (LSOA 2011 codes and MSOAs).
"""

from __future__ import annotations

import csv
import gzip
import io
import statistics
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).parent / "data"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    # mtime=0 keeps the bytes identical between rebuilds of the same data.
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as raw, io.TextIOWrapper(raw, "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(sorted(rows))


def build(src: Path) -> None:
    OUT.mkdir(exist_ok=True)
    postcodes: dict[str, list[str]] = {}
    for r in _rows(src / "postcode_msoa11_lad_llr_nov2020.csv"):
        postcodes[r["pcds"]] = [r["pcds"], r["lad21cd"], r["msoa11cd"], "", "", r["in_llr"]]
    for r in _rows(src / "postcode_centroids_llr_nspl_may2025.csv"):
        row = postcodes.setdefault(
            r["pcds"],
            [r["pcds"], r["lad21cd_from_nov2020_lookup"], r["msoa11cd_from_nov2020_lookup"], "", "", ""],
        )
        row[3], row[4] = r["lat"], r["long"]
    _write(
        "postcodes.csv.gz", ["postcode", "lad", "msoa11", "lat", "long", "in_llr"], list(postcodes.values())
    )

    decile21 = {r["lsoa21_code"]: int(r["IMD_decile"]) for r in _rows(src / "imd2025_lsoa21_llr.csv")}
    to21: defaultdict[str, list[str]] = defaultdict(list)
    for r in _rows(src / "lsoa11_to_lsoa21_llr.csv"):
        to21[r["lsoa11_code"]].append(r["lsoa21_code"])
    deciles = {code: d for code, d in decile21.items()}
    for lsoa11, targets in to21.items():
        known = [decile21[t] for t in targets if t in decile21]
        if known and lsoa11 not in deciles:
            deciles[lsoa11] = min(known)
    _write("lsoa_deciles.csv.gz", ["lsoa", "imd2025_decile"], [[k, str(v)] for k, v in deciles.items()])

    msoa_code_by_name = {
        r["msoa11nm"]: r["msoa11cd"]
        for r in _rows(src / "postcode_msoa11_lad_llr_nov2020.csv")
        if r["msoa11nm"]
    }
    by_msoa: defaultdict[str, list[int]] = defaultdict(list)
    for r in _rows(src / "imd2019_lsoa11_llr_File_1.csv"):
        msoa_name = r["LSOA name (2011)"][:-1]
        code = msoa_code_by_name.get(msoa_name)
        if code and r["LSOA code (2011)"] in deciles:
            by_msoa[code].append(deciles[r["LSOA code (2011)"]])
    _write(
        "msoa_deciles.csv.gz",
        ["msoa11", "imd2025_decile", "lsoas"],
        [[m, str(statistics.median_low(ds)), str(len(ds))] for m, ds in by_msoa.items()],
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]))
