"""The provider pool: providers as a struct of NumPy arrays, built once.

Callers describe each micro-provider with a plain ``ProviderRecord`` (strings,
dates, sets); ``ProviderPool.build`` turns the list into arrays and keeps the
string -> bit/column maps (``service_index``, ``agency_index``...) so callers
never deal with bit positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import numpy.typing as npt

from matching.availability import WORDS, Mask, empty_mask

MAX_SERVICES = 64  # services are one uint64 bitset per provider
NO_DATE = -1  # compliance_days value for "an item is missing"

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ProviderRecord:
    """One micro-provider as the caller knows it (e.g. from database rows).

    ``rates_pence`` maps each offered service key to its hourly rate (int pence);
    the services offered are its keys. ``compliance_valid_until`` is the earliest
    expiry of the provider's compliance items (DBS, insurance, training...), or
    None when a required item is missing, which makes the provider ineligible.
    """

    provider_id: str
    lat: float
    lon: float
    travel_radius_km: float
    rates_pence: Mapping[str, int]
    availability: Mask = field(default_factory=empty_mask)
    cqc_registered: bool = False
    approved_agencies: frozenset[str] = frozenset()
    suspended: bool = False
    compliance_valid_until: date | None = None
    isf_approved_councils: frozenset[str] = frozenset()
    capacity_hours_per_week: float = 0.0
    committed_hours: float = 0.0
    gender: str | None = None
    languages: frozenset[str] = frozenset()
    current_load_hours: float | None = None  # None: same as committed_hours
    reliability: float | None = None  # 0..1, e.g. share of visits kept; None = no history
    rating: float | None = None  # seekers' 1-5 rating, shrunk (features.shrunk_rating); None = none


def _index(keys: Iterable[str]) -> dict[str, int]:
    return {key: i for i, key in enumerate(sorted(set(keys)))}


@dataclass(frozen=True, eq=False)
class ProviderPool:
    """Providers as parallel arrays (row i is one provider)."""

    ids: tuple[str, ...]
    row_of: dict[str, int]
    id_rank: IntArray  # rank of each id in sorted order: the deterministic tie-break
    lat: FloatArray
    lon: FloatArray
    radius_km: FloatArray
    services: npt.NDArray[np.uint64]  # bit j set: offers service j
    rates: IntArray  # (n, n_services) pence per hour, -1 where not offered
    cqc: BoolArray
    agencies: BoolArray  # (n, n_agencies)
    suspended: BoolArray
    compliance_days: IntArray  # date.toordinal() of earliest expiry, NO_DATE if missing
    isf_councils: BoolArray  # (n, n_councils)
    availability: npt.NDArray[np.uint64]  # (n, 6)
    capacity_hours: FloatArray
    committed_hours: FloatArray
    gender: IntArray  # index into gender_index, -1 = not stated
    languages: BoolArray  # (n, n_languages)
    load_hours: FloatArray
    reliability: FloatArray  # NaN = no history
    rating: FloatArray  # shrunk 1-5 rating, NaN = no ratings
    service_index: dict[str, int]
    agency_index: dict[str, int]
    council_index: dict[str, int]
    gender_index: dict[str, int]
    language_index: dict[str, int]
    regulated_services: frozenset[str]
    lat_order: IntArray  # rows sorted by latitude, for the spatial pre-filter
    lat_sorted: FloatArray
    max_radius_km: float

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def free_hours(self) -> FloatArray:
        """Capacity not yet committed to arrangements (hours per week)."""
        free: FloatArray = self.capacity_hours - self.committed_hours
        return free

    def with_commitments(self, extra_hours: Mapping[str, float]) -> ProviderPool:
        """The same pool with more hours committed per provider id (unknown ids ignored).

        For work promised but not yet an arrangement, e.g. introductions in flight.
        """
        committed = self.committed_hours.copy()
        for provider_id, hours in extra_hours.items():
            if provider_id in self.row_of:
                committed[self.row_of[provider_id]] += hours
        return replace(self, committed_hours=committed)

    def service_bits(self, keys: Iterable[str]) -> tuple[int, bool]:
        """(bitset, all_known) for service keys; unknown keys no provider offers."""
        bits, known = 0, True
        for key in keys:
            if key in self.service_index:
                bits |= 1 << self.service_index[key]
            else:
                known = False
        return bits, known

    @classmethod
    def build(
        cls,
        records: Sequence[ProviderRecord],
        regulated_services: Iterable[str] = (),
        services: Sequence[str] | None = None,
    ) -> ProviderPool:
        """Build the arrays from records.

        ``regulated_services`` are the service keys that are regulated activities
        (personal care): only CQC-registered providers may take them.
        ``services`` fixes the service catalogue; by default it is every key seen.
        """
        ids = tuple(r.provider_id for r in records)
        if len(set(ids)) != len(ids):
            raise ValueError("provider ids must be unique")
        service_index = (
            {key: i for i, key in enumerate(services)}
            if services is not None
            else _index(k for r in records for k in r.rates_pence)
        )
        if len(service_index) > MAX_SERVICES:
            raise ValueError(f"at most {MAX_SERVICES} services, got {len(service_index)}")
        agency_index = _index(a for r in records for a in r.approved_agencies)
        council_index = _index(c for r in records for c in r.isf_approved_councils)
        gender_index = _index(r.gender for r in records if r.gender is not None)
        language_index = _index(lang for r in records for lang in r.languages)
        n = len(records)

        services_bits = np.zeros(n, dtype=np.uint64)
        rates = np.full((n, len(service_index)), -1, dtype=np.int64)
        agencies = np.zeros((n, len(agency_index)), dtype=bool)
        councils = np.zeros((n, len(council_index)), dtype=bool)
        languages = np.zeros((n, len(language_index)), dtype=bool)
        availability = np.zeros((n, WORDS), dtype=np.uint64)
        for i, r in enumerate(records):
            bits = 0
            for key, rate in r.rates_pence.items():
                bits |= 1 << service_index[key]
                rates[i, service_index[key]] = int(rate)
            services_bits[i] = bits
            agencies[i, [agency_index[a] for a in r.approved_agencies]] = True
            councils[i, [council_index[c] for c in r.isf_approved_councils]] = True
            languages[i, [language_index[lang] for lang in r.languages]] = True
            availability[i] = r.availability

        lat = np.array([r.lat for r in records], dtype=np.float64)
        radius = np.array([r.travel_radius_km for r in records], dtype=np.float64)
        committed = np.array([r.committed_hours for r in records], dtype=np.float64)
        lat_order = np.argsort(lat, kind="stable")
        id_rank = np.empty(n, dtype=np.int64)
        id_rank[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
        return cls(
            ids=ids,
            row_of={pid: i for i, pid in enumerate(ids)},
            id_rank=id_rank,
            lat=lat,
            lon=np.array([r.lon for r in records], dtype=np.float64),
            radius_km=radius,
            services=services_bits,
            rates=rates,
            cqc=np.array([r.cqc_registered for r in records], dtype=bool),
            agencies=agencies,
            suspended=np.array([r.suspended for r in records], dtype=bool),
            compliance_days=np.array(
                [
                    NO_DATE
                    if r.compliance_valid_until is None
                    else r.compliance_valid_until.toordinal()
                    for r in records
                ],
                dtype=np.int64,
            ),
            isf_councils=councils,
            availability=availability,
            capacity_hours=np.array([r.capacity_hours_per_week for r in records], dtype=np.float64),
            committed_hours=committed,
            gender=np.array(
                [-1 if r.gender is None else gender_index[r.gender] for r in records],
                dtype=np.int64,
            ),
            languages=languages,
            load_hours=np.array(
                [
                    r.committed_hours if r.current_load_hours is None else r.current_load_hours
                    for r in records
                ],
                dtype=np.float64,
            ),
            reliability=np.array(
                [np.nan if r.reliability is None else r.reliability for r in records],
                dtype=np.float64,
            ),
            rating=np.array(
                [np.nan if r.rating is None else r.rating for r in records], dtype=np.float64
            ),
            service_index=service_index,
            agency_index=agency_index,
            council_index=council_index,
            gender_index=gender_index,
            language_index=language_index,
            regulated_services=frozenset(regulated_services),
            lat_order=lat_order.astype(np.int64),
            lat_sorted=lat[lat_order],
            max_radius_km=float(radius.max()) if n else 0.0,
        )
