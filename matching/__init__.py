"""The matching engine: plain Python + NumPy, no Flask, no ORM.

Build a ``ProviderPool`` once from ``ProviderRecord``s, describe a need as a
``CareRequestSpec``, then ``top_k`` ranks eligible providers with an explanation,
``why_not`` says why a provider was left out, and ``assign_batch`` re-plans all
open requests against provider capacity.
"""

from matching.assignment import (
    AssignmentResult,
    Placement,
    assign_batch,
    greedy_assign,
)
from matching.availability import (
    InvalidWindow,
    mask_from_slots,
    mask_from_windows,
    mask_hours,
    mask_minutes,
    overlap_slots,
    windows_from_mask,
)
from matching.candidates import (
    CONSTRAINT_CODES,
    CareRequestSpec,
    eligible,
    eligible_rows,
    why_not,
)
from matching.features import FEATURES
from matching.geo import (
    GeoError,
    InvalidPostcode,
    Neighbourhood,
    PostcodeParts,
    UnknownOutcode,
    council_area_of,
    haversine_km,
    locality_circle,
    locate_postcode,
    neighbourhood_for_outcode,
    neighbourhoods,
    outcode_table,
    parse_postcode,
)
from matching.pool import ProviderPool, ProviderRecord
from matching.scoring import FeatureExplanation, Suggestion, Weights, top_k

__all__ = [
    "CONSTRAINT_CODES",
    "FEATURES",
    "AssignmentResult",
    "CareRequestSpec",
    "FeatureExplanation",
    "GeoError",
    "InvalidPostcode",
    "InvalidWindow",
    "Neighbourhood",
    "Placement",
    "PostcodeParts",
    "ProviderPool",
    "ProviderRecord",
    "Suggestion",
    "UnknownOutcode",
    "Weights",
    "assign_batch",
    "council_area_of",
    "eligible",
    "eligible_rows",
    "greedy_assign",
    "haversine_km",
    "locality_circle",
    "locate_postcode",
    "mask_from_slots",
    "mask_from_windows",
    "mask_hours",
    "mask_minutes",
    "neighbourhood_for_outcode",
    "neighbourhoods",
    "outcode_table",
    "overlap_slots",
    "parse_postcode",
    "top_k",
    "why_not",
    "windows_from_mask",
]
