"""Re-check the matcher's hard constraints for one provider and one request, now.

Compliance may have expired, a listing been suspended or capacity been taken
since the suggestion was made, so approval asks the matching engine again
(``matching.why_not``) with records built from the current database rows: the
same builders the match job uses (``pools``), whose compliance date is the
providers domain's ``compliance_valid_until`` (DBS + insurance, + CQC registration
for providers of regulated services, verified, earliest expiry; None when one is
missing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

import matching
from agency.introductions import pools
from agency.providers.models import Provider
from agency.seekers.models import CareRequest


def failed_constraints(
    session: Session, care_request: CareRequest, provider: Provider, today: dt.date
) -> list[str]:
    """The constraint codes (matching.CONSTRAINT_CODES) the provider fails now; [] if none."""
    regulated = pools.regulated_services(session)
    # Compliance must hold from whichever is later: the request's start date or today.
    on = max(care_request.start_date, today)
    committed = pools.committed_hours(session, [provider.id]).get(provider.id, 0.0)
    record = pools.provider_record(provider, committed, on, regulated, today)
    pool = matching.ProviderPool.build([record], regulated_services=regulated)
    spec = replace(pools.request_spec(care_request), start_date=on)
    return matching.why_not(pool, spec, provider.id)
