"""What the ISF blueprints share: who reads ISF money (agency managers and council auditors)."""

from agency.access import Kind

READERS = (Kind.MANAGER, Kind.AUDITOR)
