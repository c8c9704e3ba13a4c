"""Imports every model so that Base.metadata is complete (Alembic and tests need it)."""

from agency.accounts.models import ApiKey, AuthToken, PartnerClient, User  # noqa: F401
from agency.directory.models import Agency, Council  # noqa: F401
from agency.jobs.models import JobRecord  # noqa: F401
from agency.providers.models import Provider  # noqa: F401

# Rows written by migrations (taxonomies); tests empty every other table between tests.
REFERENCE_TABLES = frozenset({"alembic_version"})
