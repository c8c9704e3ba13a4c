"""What the visits blueprints share: who reads visits, timesheets and invoices."""

from agency.access import Kind

READERS = (Kind.MANAGER, Kind.PROVIDER, Kind.PARTNER, Kind.AUDITOR)
