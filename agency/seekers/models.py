"""Care seekers and care requests: the minimum personal data, with consent recorded.

We keep an outcode (and sector when given), never a full address. A seeker can
be erased: their personal fields are cleared and ``erased_at`` set, while the
ids that money records point to stay.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from agency.access import Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow
from agency.state_machine import StateMachine


class ContactPreference(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    POST = "post"
    VIA_PARTNER = "via_partner"


class CareSeeker(IdMixin, TimestampMixin, Base):
    __tablename__ = "care_seekers"
    __table_args__ = (UniqueConstraint("partner_client_id", "reference"),)
    __label__ = "care seeker"

    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    # The partner's own pseudonymous reference for this person (no name, no NHS number).
    reference: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(120))
    contact_preference: Mapped[ContactPreference | None] = mapped_column(
        str_enum(ContactPreference)
    )
    outcode: Mapped[str | None] = mapped_column(String(8))
    sector: Mapped[str | None] = mapped_column(String(10))
    erased_at: Mapped[dt.datetime | None]

    consents: Mapped[list[Consent]] = relationship(order_by="Consent.given_at")
    care_requests: Mapped[list[CareRequest]] = relationship(back_populates="seeker")

    def access_scope(self) -> Scope:
        # Managers and auditors see a seeker through the agencies of the seeker's requests.
        # Read just those two columns: loading every request (each new request checks the
        # seeker's scope) would make a seeker's n-th request cost n objects.
        session = object_session(self)
        if session is None or "care_requests" in self.__dict__:
            owners = {(r.agency_id, r.council_id) for r in self.care_requests}
        else:
            owners = {
                (agency_id, council_id)
                for agency_id, council_id in session.execute(
                    select(CareRequest.agency_id, CareRequest.council_id)
                    .where(CareRequest.seeker_id == self.id)
                    .distinct()
                )
            }
        return Scope.of(
            agency_ids=[agency_id for agency_id, _ in owners],
            council_ids=[council_id for _, council_id in owners],
            partner_client_id=self.partner_client_id,
        )


class Consent(IdMixin, Base):
    """What the seeker agreed to, when, under which version of the terms (append-only)."""

    __tablename__ = "consents"

    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    terms_version: Mapped[str] = mapped_column(String(40))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    given_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    HOSPITAL_DISCHARGE = "hospital_discharge"


class Funding(enum.StrEnum):
    SELF_FUNDED = "self_funded"
    DIRECT_PAYMENT = "direct_payment"
    ISF = "isf"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    MATCHING = "matching"
    MATCHED = "matched"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# open -> matching -> matched -> closed; open | matching | matched -> withdrawn;
# matched -> open (the arrangement ended or fell through: look again).
# Moves go through agency.seekers.lifecycle.transition_request (it stamps the times).
REQUEST_STATES = StateMachine(
    {
        RequestStatus.OPEN: {RequestStatus.MATCHING, RequestStatus.WITHDRAWN},
        RequestStatus.MATCHING: {RequestStatus.MATCHED, RequestStatus.WITHDRAWN},
        RequestStatus.MATCHED: {RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.OPEN},
        RequestStatus.CLOSED: set(),
        RequestStatus.WITHDRAWN: set(),
    }
)


class CareRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "care_requests"
    __label__ = "care request"

    seeker_id: Mapped[str] = mapped_column(ForeignKey("care_seekers.id"), index=True)
    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    # None when no agency covers the outcode: stored all the same, reported as unmet need.
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    neighbourhood_id: Mapped[str | None] = mapped_column(
        ForeignKey("neighbourhoods.id"), index=True
    )
    outcode: Mapped[str] = mapped_column(String(8), index=True)
    sector: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float]
    lon: Mapped[float]
    services: Mapped[list[str]] = mapped_column(JSON)
    # Hours are whole half-hours; stored as minutes so sums stay exact.
    minutes_per_week: Mapped[int]
    windows: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    windows_mask: Mapped[str] = mapped_column(String(96))
    allow_split: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[dt.date] = mapped_column(Date)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.ROUTINE)
    funding: Mapped[Funding] = mapped_column(str_enum(Funding))
    max_rate_pence: Mapped[int | None]
    preferences: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), default=RequestStatus.OPEN, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    matched_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    last_match_job_id: Mapped[str | None] = mapped_column(String(40))
    # The agency's pool generation (agency.introductions.pool_cache) its active ranking was
    # checked against; below the current one, a re-match has a provider's change to apply.
    # None until its first match. Written by Core statements: not a change of the request,
    # so it leaves ``version`` alone.
    ranked_generation: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(default=1)

    seeker: Mapped[CareSeeker] = relationship(back_populates="care_requests")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def hours_per_week(self) -> float:
        return self.minutes_per_week / 60

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id],
            council_ids=[self.council_id],
            partner_client_id=self.partner_client_id,
        )
