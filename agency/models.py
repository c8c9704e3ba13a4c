"""Imports every model so that Base.metadata is complete (Alembic and tests need it)."""

from agency.accounts.models import ApiKey, AuthToken, PartnerClient, User  # noqa: F401
from agency.activities.models import Activity, ActivityAttendance, ActivityReferral  # noqa: F401
from agency.audit.models import AuditEntry  # noqa: F401
from agency.directory.feed_version import FeedVersion  # noqa: F401
from agency.directory.models import (  # noqa: F401
    Agency,
    Council,
    Neighbourhood,
    NeighbourhoodOutcode,
    ServiceType,
)
from agency.directory.public_windows import PublicWindow  # noqa: F401
from agency.equality.models import EqualityMonitoring  # noqa: F401
from agency.introductions.models import (  # noqa: F401
    Arrangement,
    ArrangementVersion,
    Introduction,
    MatchPlan,
    Suggestion,
)
from agency.introductions.pool_cache import MatchPoolCache  # noqa: F401
from agency.isf.models import (  # noqa: F401
    Invoice,
    IsfAccount,
    JournalEntry,
    LedgerAccount,
    PaymentRun,
    Payout,
    PayoutAccount,
    Posting,
    StripeEvent,
)
from agency.jobs.models import JobRecord  # noqa: F401
from agency.outcomes.models import WellbeingAssessment  # noqa: F401
from agency.providers.models import (  # noqa: F401
    AvailabilityException,
    ComplianceItem,
    IsfApproval,
    Provider,
    ProviderListing,
    ProviderService,
    VettingDecision,
)
from agency.seekers.models import CareRequest, CareSeeker, Consent  # noqa: F401
from agency.visits.feedback_models import ProviderRatingTotal, VisitFeedback  # noqa: F401
from agency.visits.models import Timesheet, Visit  # noqa: F401
from agency.visits.planned_models import BackupProvider, PlannedVisit, RotaFeed  # noqa: F401
from agency.webhooks.models import (  # noqa: F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

# Rows written by migrations (taxonomies); tests empty every other table between tests.
REFERENCE_TABLES = frozenset({"alembic_version", "service_types"})
