"""Introductions' shared rules: which introductions are live.

The status tables live beside the models (``INTRODUCTION_STATES``, ``ARRANGEMENT_STATES``,
``SUGGESTION_STATES`` in ``agency.introductions.models``, through ``agency.state_machine``).
A write goes through ``agency.unit_of_work``: one that lost a race (the row's ``version``
moved on under it) is a 409 ``version_conflict``: the client re-reads and decides again.
"""

from __future__ import annotations

from agency.introductions.models import IntroductionStatus

I = IntroductionStatus  # noqa: E741
LIVE_INTRODUCTION = frozenset({I.AWAITING_PROVIDER, I.AWAITING_SEEKER, I.CONFIRMED})
