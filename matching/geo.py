"""Postcodes, outcode centroids, distances, council areas and local-spend circles.

Everything here works from data shipped in ``matching/data`` (see its README for
sources and licences): GeoNames outcode centroids, a small correction table, OS
Boundary-Line council boundaries and the demo neighbourhoods.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

DATA_DIR = Path(__file__).resolve().parent / "data"
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius

FloatArray = npt.NDArray[np.float64]
CouncilArea = Literal[
    "bristol", "south_gloucestershire", "bath_and_north_east_somerset", "north_somerset"
]
LocalityCircle = Literal["council_area", "combined_authority", "region", "national"]

# The West of England Combined Authority: North Somerset chose not to join it.
WECA_COUNCILS: frozenset[str] = frozenset(
    {"bristol", "south_gloucestershire", "bath_and_north_east_somerset"}
)
# GeoNames "county" values (ceremonial/historic counties) that lie in the ONS
# South West region. GeoNames files BANES and North Somerset under "Somerset"
# and South Gloucestershire under "Gloucestershire", which are both South West.
SOUTH_WEST_COUNTIES: frozenset[str] = frozenset(
    {"County of Bristol", "Somerset", "Gloucestershire", "Wiltshire", "Dorset", "Devon", "Cornwall"}
)
_BOUNDARY_FILES: dict[CouncilArea, str] = {
    "bristol": "boundary_bristol.geojson",
    "south_gloucestershire": "boundary_southgloucestershire.geojson",
    "bath_and_north_east_somerset": "boundary_bathandnortheastsomerset.geojson",
    "north_somerset": "boundary_northsomerset.geojson",
}

# Royal Mail outcode/incode formats (the same rules as the GOV.UK pattern);
# GIR 0AA (the old Girobank postcode) is the one historic exception.
_OUTCODE = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INCODE = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL_RE = re.compile(rf"^(?P<out>{_OUTCODE}) ?(?P<in>{_INCODE})$")
_OUTCODE_RE = re.compile(rf"^{_OUTCODE}$")


class GeoError(ValueError):
    """Base class of the geo errors; ``code`` is stable for API error bodies."""

    code = "geo_error"


class InvalidPostcode(GeoError):  # noqa: N818 - domain name, as STYLE.md
    """The text is neither a full UK postcode nor a bare outcode."""

    code = "invalid_postcode"


class UnknownOutcode(GeoError):  # noqa: N818 - domain name, as STYLE.md
    """The outcode is well formed but not in the shipped outcode table."""

    code = "unknown_outcode"


@dataclass(frozen=True)
class PostcodeParts:
    """A normalised postcode: outcode ("BS3") and sector ("BS3 4") or None."""

    outcode: str
    sector: str | None


def parse_postcode(text: str) -> PostcodeParts:
    """Validate a full postcode or bare outcode and normalise it.

    >>> parse_postcode(" bs3  4ab")
    PostcodeParts(outcode='BS3', sector='BS3 4')
    """
    compact = re.sub(r"\s+", " ", text.strip().upper())
    if compact.replace(" ", "") == "GIR0AA":
        return PostcodeParts("GIR", "GIR 0")
    if compact == "GIR":
        return PostcodeParts("GIR", None)
    match = _FULL_RE.match(compact)
    if match is None and " " not in compact and len(compact) >= 5:
        # "BS34AB": the incode is always the last three characters.
        match = _FULL_RE.match(f"{compact[:-3]} {compact[-3:]}")
    if match is not None:
        outcode = match.group("out")
        return PostcodeParts(outcode, f"{outcode} {match.group('in')[0]}")
    if _OUTCODE_RE.match(compact):
        return PostcodeParts(compact, None)
    raise InvalidPostcode(f"not a UK postcode or outcode: {text!r}")


@dataclass(frozen=True)
class OutcodeTable:
    """Outcode centroids as parallel arrays, with the correction table applied."""

    outcodes: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    county: tuple[str, ...]
    country: tuple[str, ...]
    index: dict[str, int]

    def latlon(self, outcode: str) -> tuple[float, float]:
        """Centroid of an outcode; raises ``UnknownOutcode``."""
        row = self.row(outcode)
        return float(self.lat[row]), float(self.lon[row])

    def row(self, outcode: str) -> int:
        """Row of an outcode in the arrays; raises ``UnknownOutcode``."""
        try:
            return self.index[outcode.strip().upper()]
        except KeyError:
            raise UnknownOutcode(f"outcode not known: {outcode!r}") from None

    def nearest(self, lat: float, lon: float) -> int:
        """Row of the outcode whose centroid is nearest to a point."""
        return int(np.argmin(haversine_km(lat, lon, self.lat, self.lon)))


@functools.cache
def outcode_table() -> OutcodeTable:
    """Load the outcode table once (lazily) and keep it for the process."""
    corrections = _read_tsv(DATA_DIR / "centroid_corrections.tsv")
    fixes = {r["outcode"]: (float(r["latitude"]), float(r["longitude"])) for r in corrections}
    rows = _read_tsv(DATA_DIR / "gb-outcodes.tsv")
    codes = tuple(r["outcode"] for r in rows)
    lat = np.array([fixes.get(r["outcode"], (float(r["latitude"]), 0.0))[0] for r in rows])
    lon = np.array([fixes.get(r["outcode"], (0.0, float(r["longitude"])))[1] for r in rows])
    return OutcodeTable(
        outcodes=codes,
        lat=lat,
        lon=lon,
        county=tuple(r["county"] for r in rows),
        country=tuple(r["country"] for r in rows),
        index={c: i for i, c in enumerate(codes)},
    )


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def locate_postcode(text: str) -> tuple[float, float]:
    """Postcode or outcode -> approximate (lat, lon) of its outcode centroid."""
    return outcode_table().latlon(parse_postcode(text).outcode)


def haversine_km(
    lat1: float | FloatArray,
    lon1: float | FloatArray,
    lat2: float | FloatArray,
    lon2: float | FloatArray,
) -> FloatArray:
    """Great-circle distance in km; NumPy broadcasting over any of the inputs."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return result


@dataclass(frozen=True)
class _Boundary:
    """A council boundary: rings as (m, 2) lon/lat arrays plus a bounding box."""

    rings: tuple[FloatArray, ...]
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lat: float, lon: float) -> bool:
        """Even-odd ray casting over every ring, so holes count correctly."""
        if not (self.bbox[0] <= lon <= self.bbox[2] and self.bbox[1] <= lat <= self.bbox[3]):
            return False
        crossings = 0
        for ring in self.rings:
            x1, y1 = ring[:-1, 0], ring[:-1, 1]
            x2, y2 = ring[1:, 0], ring[1:, 1]
            straddles = (y1 > lat) != (y2 > lat)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            crossings += int(np.count_nonzero(straddles & (lon < x_cross)))
        return crossings % 2 == 1


@functools.cache
def _boundaries() -> dict[CouncilArea, _Boundary]:
    loaded: dict[CouncilArea, _Boundary] = {}
    for area, filename in _BOUNDARY_FILES.items():
        document = json.loads((DATA_DIR / filename).read_text(encoding="utf-8"))
        rings: list[FloatArray] = []
        for feature in document["features"]:
            geometry = feature["geometry"]
            polygons = geometry["coordinates"]
            if geometry["type"] == "Polygon":
                polygons = [polygons]
            for polygon in polygons:
                for ring in polygon:
                    coords = np.asarray(ring, dtype=np.float64)[:, :2]
                    if not np.array_equal(coords[0], coords[-1]):
                        coords = np.vstack([coords, coords[:1]])
                    rings.append(coords)
        stacked = np.vstack(rings)
        bbox = (
            float(stacked[:, 0].min()),
            float(stacked[:, 1].min()),
            float(stacked[:, 0].max()),
            float(stacked[:, 1].max()),
        )
        loaded[area] = _Boundary(tuple(rings), bbox)
    return loaded


def council_area_of(lat: float, lon: float) -> CouncilArea | None:
    """Which West of England council area a point lies in, or None outside all four."""
    for area, boundary in _boundaries().items():
        if boundary.contains(lat, lon):
            return area
    return None


def locality_circle(
    lat: float, lon: float, council_area: str, outcode: str | None = None
) -> LocalityCircle:
    """How local a point (a provider's base) is to the funding council ``council_area``.

    "council_area" inside that council; "combined_authority" inside the West of
    England Combined Authority (Bristol, South Glos, BANES; only when the funding
    council is itself a member); "region" in the South West; else "national".
    Region rule: the four West of England councils are all South West; elsewhere
    we take the GeoNames county of ``outcode`` (or of the nearest outcode
    centroid) and test it against ``SOUTH_WEST_COUNTIES``.
    """
    area = council_area_of(lat, lon)
    if area is not None and area == council_area:
        return "council_area"
    if area in WECA_COUNCILS and council_area in WECA_COUNCILS:
        return "combined_authority"
    if area is not None:
        return "region"
    table = outcode_table()
    row = table.row(outcode) if outcode else table.nearest(lat, lon)
    if table.country[row] == "England" and table.county[row] in SOUTH_WEST_COUNTIES:
        return "region"
    return "national"


@dataclass(frozen=True)
class Neighbourhood:
    """A demo neighbourhood made of whole outcodes (see data/README.md)."""

    slug: str
    name: str
    outcodes: tuple[str, ...]
    anchor: str | None


@functools.cache
def neighbourhoods() -> tuple[Neighbourhood, ...]:
    """The shipped neighbourhoods, in file order."""
    raw = json.loads((DATA_DIR / "neighbourhoods.json").read_text(encoding="utf-8"))
    return tuple(
        Neighbourhood(n["slug"], n["name"], tuple(n["outcodes"]), n.get("anchor")) for n in raw
    )


def neighbourhood_for_outcode(outcode: str) -> Neighbourhood | None:
    """The first neighbourhood (file order) listing the outcode, or None."""
    wanted = outcode.strip().upper()
    for neighbourhood in neighbourhoods():
        if wanted in neighbourhood.outcodes:
            return neighbourhood
    return None
