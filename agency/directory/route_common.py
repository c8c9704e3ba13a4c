"""What the directory's blueprints share: every kind of principal reads the directory."""

from agency.access import Kind

ANY = (Kind.PARTNER, Kind.PROVIDER, Kind.MANAGER, Kind.AUDITOR)
