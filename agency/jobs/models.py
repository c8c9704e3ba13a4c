"""A row per job, so its status survives Redis and works the same inline or on RQ."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin, str_enum, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"


class JobRecord(IdMixin, Base):
    __tablename__ = "jobs"
    __label__ = "job"
    __table_args__ = (
        # An agency's queued jobs of one name, oldest first: what a match job claims to run
        # with it (agency.jobs.queue.claim_queued). Only queued rows are in it, so it stays
        # small however long the history (see migration 0029jobsqueued).
        Index(
            "ix_jobs_queued_agency_name_created",
            "agency_id",
            "name",
            "created_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )

    name: Mapped[str] = mapped_column(String(80), index=True)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus), default=JobStatus.QUEUED, index=True
    )
    progress: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # Who may read the job: copied from the object the job works on.
    agency_id: Mapped[str | None] = mapped_column(String(40), index=True)
    council_id: Mapped[str | None] = mapped_column(String(40))
    partner_client_id: Mapped[str | None] = mapped_column(String(40))
    provider_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]

    def access_scope(self) -> Scope:
        return Scope.of(
            council_ids=[self.council_id],
            agency_ids=[self.agency_id],
            partner_client_id=self.partner_client_id,
            provider_id=self.provider_id,
        )
