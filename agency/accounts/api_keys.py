"""Partner clients and their API keys: issued once, kept as digests, revoked, and the
partner a key stands for on each request."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from agency.access import Kind, Principal, digest
from agency.accounts.models import ApiKey, PartnerClient
from agency.db import read_beside, utcnow
from agency.errors import NotFound, Unauthenticated
from agency.ids import new_id
from agency.unit_of_work import unit_of_work


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str


def create_partner_client(
    session: Session, name: str, contact_email: str | None = None
) -> PartnerClient:
    client = PartnerClient(id=new_id("ptn"), name=name, contact_email=contact_email)
    with unit_of_work(session) as uow:
        session.add(client)
        uow.commit()
    return client


def issue_api_key(session: Session, partner_client_id: str, name: str) -> IssuedApiKey:
    """Make a key; its secret is returned once and only its digest is kept."""
    client = session.get(PartnerClient, partner_client_id)
    if client is None:
        raise NotFound(f"No partner client with id {partner_client_id}.")
    prefix = "iak_" + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=new_id("key"),
        partner_client_id=client.id,
        name=name,
        prefix=prefix,
        key_digest=digest(secret),
    )
    with unit_of_work(session) as uow:
        session.add(key)
        uow.commit()
    return IssuedApiKey(key, secret)


def revoke_api_key(session: Session, partner_client_id: str, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.partner_client_id != partner_client_id:
        raise NotFound(f"No API key with id {key_id}.")
    if key.revoked_at is None:
        with unit_of_work(session) as uow:
            key.revoked_at = utcnow()
            uow.commit()
    return key


def list_api_keys(session: Session, partner_client_id: str) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.partner_client_id == partner_client_id)
            .order_by(ApiKey.created_at)
        )
    )


# Built once: read on every request with an API key (no statement construction per request).
_KEY_PRINCIPAL = (
    select(ApiKey.id, ApiKey.partner_client_id, ApiKey.revoked_at, ApiKey.last_used_at)
    .join(PartnerClient, PartnerClient.id == ApiKey.partner_client_id)
    .where(ApiKey.key_digest == bindparam("digest"), PartnerClient.active.is_(True))
)
_KEY_COLUMNS = 4  # the read's columns follow these
_TOUCH = (
    update(ApiKey).where(ApiKey.id == bindparam("key_id")).values(last_used_at=bindparam("now"))
)


def principal_for_api_key(connection: Connection, secret: str) -> Principal:
    """The key's partner in one narrow query (key and client), no ORM, read on every call
    (the web's reads may reuse its answer for a second: agency.accounts.credential_cache)."""
    return principal_and_read_for_api_key(connection, secret)[0]


def principal_and_read_for_api_key(
    connection: Connection,  # autocommit: agency.web.autocommit_connection
    secret: str,
    read: Select[Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> tuple[Principal, tuple[Any, ...] | None]:
    """:func:`principal_for_api_key`, and ``read``'s row from the same statement.

    ``read`` (built once, at most one row, with its own bind ``parameters``) is what the
    request's view reads on every call: it rides along in the key's round trip. Its row
    has None in every column when it found nothing; it is read before anything is
    authorised, so the caller must authorise what it holds.
    """
    digested = {"digest": digest(secret)}
    if read is None:
        statement, values = _KEY_PRINCIPAL, digested
    else:
        statement, values = read_beside(_KEY_PRINCIPAL, read), {**(parameters or {}), **digested}
    # Core on a connection: no ORM execution layer (or session) for a plain row.
    row = connection.execute(statement, values).first()
    if row is None or row[2] is not None:
        raise Unauthenticated("The API key is invalid or revoked.")
    key_id: str = row[0]
    partner_client_id: str = row[1]
    last_used_at: dt.datetime | None = row[3]
    now = utcnow()
    # Record use at most once a minute: no write on every request. One statement, which
    # commits on its own on the request's autocommit connection (agency.web).
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=1):
        connection.execute(_TOUCH, {"key_id": key_id, "now": now})
    principal = Principal(kind=Kind.PARTNER, id=partner_client_id)
    return principal, (tuple(row[_KEY_COLUMNS:]) if read is not None else None)
