"""``flask --app wsgi verify-audit`` and ``audit-checkpoint``: check the chain, sign its head.

``verify-audit`` exits non-zero naming the first bad entry; with ``AUDIT_CHECKPOINT_DIR``
(or ``--checkpoints``) it also checks the chain against the latest signed checkpoint, so
deleted newest entries and a re-chained history are caught. It walks the whole chain;
``--since-checkpoint`` walks only the entries after the latest checkpoint (what the hourly
job does). ``audit-checkpoint`` verifies the entries since the latest checkpoint (all of
them with ``--full``) and writes a new signed checkpoint of the head there; run it
periodically (e.g. hourly from cron) and ship the files elsewhere.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from agency.audit.checkpoints import CheckpointError, latest_checkpoint, write_checkpoint
from agency.audit.service import AUDIT_KEY_INFO, verify_chain
from agency.db import session_scope

_DIR_HELP = "Checkpoint directory (default: AUDIT_CHECKPOINT_DIR)"


def register_audit_commands(app: Flask) -> None:
    @app.cli.command("verify-audit")
    @click.option("--checkpoints", "directory", default=None, help=_DIR_HELP)
    @click.option(
        "--since-checkpoint",
        is_flag=True,
        help="Walk only the entries after the latest checkpoint (default: the whole chain)",
    )
    def verify_audit(directory: str | None, since_checkpoint: bool) -> None:
        """Verify the audit log's hash chain; exit 1 naming the first bad entry."""
        settings = current_app.extensions["agency"].settings
        key = settings.audit_signing_key
        directory = directory or settings.audit_checkpoint_dir
        try:
            checkpoint = latest_checkpoint(directory, key) if directory else None
        except CheckpointError as error:
            click.echo(f"audit checkpoint refused: {error}", err=True)
            raise SystemExit(1) from None
        with session_scope(settings.database_url) as session:
            session.info[AUDIT_KEY_INFO] = key
            report = verify_chain(
                session, key=key, checkpoint=checkpoint, from_checkpoint=since_checkpoint
            )
        if not report.ok:
            where = f"entry {report.first_bad_id} " if report.first_bad_id else ""
            click.echo(
                f"audit chain broken at {where}(sequence {report.first_bad_sequence}): "
                f"{report.problem}",
                err=True,
            )
            raise SystemExit(1)
        if checkpoint and since_checkpoint:
            click.echo(
                f"audit chain intact since the signed checkpoint at sequence "
                f"{checkpoint.sequence}: it still carries the checkpoint's hash, and the "
                f"{report.checked} entries after it verified (the entries before it were not "
                "re-read: run without --since-checkpoint for the whole chain)"
            )
            return
        anchored = (
            f"; matches the signed checkpoint at sequence {checkpoint.sequence}"
            if checkpoint
            else "; no signed checkpoint to compare with (deleted newest entries would pass)"
        )
        click.echo(f"audit chain intact: {report.checked} entries verified{anchored}")

    @app.cli.command("audit-checkpoint")
    @click.option("--checkpoints", "directory", default=None, help=_DIR_HELP)
    @click.option(
        "--full",
        is_flag=True,
        help="Walk the whole chain first (default: the entries since the latest checkpoint)",
    )
    def audit_checkpoint(directory: str | None, full: bool) -> None:
        """Verify the chain since the latest checkpoint, then sign its head (count + hash)."""
        settings = current_app.extensions["agency"].settings
        directory = directory or settings.audit_checkpoint_dir
        if not directory:
            raise click.UsageError("Set AUDIT_CHECKPOINT_DIR or pass --checkpoints DIR.")
        key = settings.audit_signing_key
        with session_scope(settings.database_url) as session:
            session.info[AUDIT_KEY_INFO] = key
            try:
                checkpoint, report = write_checkpoint(session, directory, key, full=full)
            except CheckpointError as error:
                click.echo(f"audit checkpoint refused: {error}", err=True)
                raise SystemExit(1) from None
        click.echo(
            f"audit checkpoint written: sequence {checkpoint.sequence}, hash {checkpoint.hash} "
            f"({report.checked} entries verified from sequence {report.verified_from})"
        )
