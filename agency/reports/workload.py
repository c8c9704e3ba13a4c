"""Weekly minutes of care in active arrangements, from each arrangement's current terms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, select

from agency.introductions.models import Arrangement, ArrangementStatus, ArrangementVersion


def active_minutes(*group_by: Any) -> Select[Any]:
    """``minutes`` per ``group_by`` (Arrangement columns) over active arrangements."""
    return (
        select(*group_by, func.sum(ArrangementVersion.minutes_per_week).label("minutes"))
        .select_from(Arrangement)
        .join(
            ArrangementVersion,
            and_(
                ArrangementVersion.arrangement_id == Arrangement.id,
                ArrangementVersion.version == Arrangement.current_version,
            ),
        )
        .where(Arrangement.status == ArrangementStatus.ACTIVE)
        .group_by(*group_by)
    )
