"""What the providers' blueprints share: who reads provider data, and the refusals every
provider route documents."""

from collections.abc import Callable
from typing import Any

from agency.access import Kind

READERS = (Kind.PROVIDER, Kind.MANAGER, Kind.AUDITOR)


def refusals_of(blp: Any) -> Callable[[Any], Any]:
    """A decorator documenting, on ``blp`` (a flask-smorest Blueprint), the two refusals
    every provider route gives (see ARCHITECTURE.md)."""

    def refusals(view: Any) -> Any:
        view = blp.alt_response(403, description="Not for this kind of principal, or read-only")(
            view
        )
        return blp.alt_response(404, description="No such object, or hidden from the caller")(view)

    return refusals
