"""Settings from the environment, with embedded defaults for a bare machine.

With nothing set, the service runs on a SQLite file in ``instance/`` and runs
jobs inline. Production (``AGENCY_ENV=production``) takes every secret from the
environment and refuses to start with a default one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_SECRET = "dev-only-insecure-secret"  # noqa: S105 - a marker, refused in production
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The days reconciliation compares by default (a monthly payment cycle and a few days'
# slack), and the most one run may be asked for (agency.isf.reconciliation).
RECONCILE_WINDOW_DAYS = 35
RECONCILE_WINDOW_MAX_DAYS = 366


class ConfigError(RuntimeError):
    """The settings cannot run the service safely."""


def _default_database_url() -> str:
    instance = Path(os.environ.get("AGENCY_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    return f"sqlite:///{instance / 'agency.db'}"


def _default_outbox() -> str:
    instance = Path(os.environ.get("AGENCY_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    return str(instance / "outbox")


def _normalise_database_url(url: str) -> str:
    # Heroku-style and docker-compose-style URLs name the driver loosely; we use psycopg 3.
    for loose in ("postgres://", "postgresql://"):
        if url.startswith(loose):
            return "postgresql+psycopg://" + url[len(loose) :]
    return url


@dataclass
class Settings:
    """Every setting the service reads; ``from_env`` fills it from the environment."""

    env: str = "development"
    database_url: str = field(default_factory=_default_database_url)
    redis_url: str | None = None
    secret_key: str = DEFAULT_SECRET
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    queue_name: str = "agency"
    single_queue: bool = False
    log_level: str = "INFO"
    # No web request's statement may run longer (PostgreSQL); answered 503 query_timeout.
    web_statement_timeout_ms: int = 10_000
    page_size_max: int = 100
    # Web processes listen for committed changes to care requests and their suggestions
    # (PostgreSQL notifications, agency.change_feed) and keep what they read until one
    # arrives. Off: read every time (the test harness, whose transactions never commit).
    change_feed: bool = True
    # The days reconciliation compares when not asked for others (agency.isf.reconciliation).
    reconcile_window_days: int = RECONCILE_WINDOW_DAYS
    # A planned visit with nothing logged this long after its window ends is missed.
    visit_missed_after_minutes: int = 120
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    webhook_allow_private: bool = False
    # Failed sign-ins allowed before 429 (flask-limiter / limits notation), counted per
    # account (email) and per client address; a moving window, in Redis when REDIS_URL is set.
    login_limit_per_account: str = "10 per 15 minutes"
    login_limit_per_address: str = "50 per 15 minutes"
    # Self-registrations (each mails a code): per client address and per email address.
    registration_limit_per_address: str = "20 per hour"
    registration_limit_per_email: str = "5 per hour"
    # The audit chain's HMAC key: never in the database, so whoever can write the database
    # still cannot forge a link. Unset: derived from SECRET_KEY in production, and from the
    # development marker elsewhere (so a developer's app, worker and tests agree).
    audit_key: str | None = None
    # Where `flask audit-checkpoint` writes signed checkpoints of the chain's head; ship the
    # files somewhere the database owner cannot rewrite (another host, an append-only bucket).
    audit_checkpoint_dir: str | None = None
    # Outgoing mail (registration confirmations): SMTP when set, else .eml files in a folder.
    smtp_url: str | None = None
    mail_from: str = "no-reply@agency.example"
    mail_outbox_dir: str = field(default_factory=_default_outbox)
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls()
        mapping = {
            "AGENCY_ENV": "env",
            "DATABASE_URL": "database_url",
            "REDIS_URL": "redis_url",
            "SECRET_KEY": "secret_key",
            "ACCESS_TOKEN_MINUTES": "access_token_minutes",
            "REFRESH_TOKEN_DAYS": "refresh_token_days",
            "RQ_QUEUE": "queue_name",
            "RQ_SINGLE_QUEUE": "single_queue",
            "LOG_LEVEL": "log_level",
            "WEB_STATEMENT_TIMEOUT_MS": "web_statement_timeout_ms",
            "CHANGE_FEED": "change_feed",
            "VISIT_MISSED_AFTER_MINUTES": "visit_missed_after_minutes",
            "RECONCILE_WINDOW_DAYS": "reconcile_window_days",
            "STRIPE_API_KEY": "stripe_api_key",
            "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
            "STRIPE_API_BASE": "stripe_api_base",
            "WEBHOOK_ALLOW_PRIVATE": "webhook_allow_private",
            "LOGIN_LIMIT_PER_ACCOUNT": "login_limit_per_account",
            "LOGIN_LIMIT_PER_ADDRESS": "login_limit_per_address",
            "REGISTRATION_LIMIT_PER_ADDRESS": "registration_limit_per_address",
            "REGISTRATION_LIMIT_PER_EMAIL": "registration_limit_per_email",
            "AUDIT_KEY": "audit_key",
            "AUDIT_CHECKPOINT_DIR": "audit_checkpoint_dir",
            "SMTP_URL": "smtp_url",
            "MAIL_FROM": "mail_from",
            "MAIL_OUTBOX_DIR": "mail_outbox_dir",
        }
        types = {f.name: f.type for f in fields(cls)}
        for variable, name in mapping.items():
            raw = env.get(variable)
            if raw is None or raw == "":
                continue
            kind = types[name]
            if kind == "int":
                setattr(settings, name, int(raw))
            elif kind == "bool":
                setattr(settings, name, raw.lower() in {"1", "true", "yes", "on"})
            else:
                setattr(settings, name, raw)
        settings.database_url = _normalise_database_url(settings.database_url)
        return settings

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def audit_signing_key(self) -> bytes:
        """The key of the audit chain's HMACs and of its checkpoints' signatures."""
        if self.audit_key:
            return self.audit_key.encode()
        base = self.secret_key if self.is_production else DEFAULT_SECRET
        return hmac.new(base.encode(), b"agency audit chain v1", hashlib.sha256).digest()

    @property
    def inline_jobs(self) -> bool:
        return not self.redis_url

    def check(self) -> None:
        """Refuse settings that would be unsafe in production, or that make no sense."""
        if not 1 <= self.reconcile_window_days <= RECONCILE_WINDOW_MAX_DAYS:
            raise ConfigError(
                f"RECONCILE_WINDOW_DAYS must be between 1 and {RECONCILE_WINDOW_MAX_DAYS}"
            )
        if self.is_production:
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ConfigError(
                    "SECRET_KEY must be set to a random value of at least 32 characters "
                    "when AGENCY_ENV=production"
                )
            if self.database_url.startswith("sqlite"):
                raise ConfigError(
                    "DATABASE_URL must point at PostgreSQL when AGENCY_ENV=production"
                )
            if self.webhook_allow_private:
                # Private webhook targets are for a developer's local receiver only: in
                # production they would let a partner make this server reach its own network.
                raise ConfigError(
                    "WEBHOOK_ALLOW_PRIVATE=true is refused when AGENCY_ENV=production"
                )
