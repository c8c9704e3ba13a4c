"""What the seekers domain refuses, each with its stable error code.

The codes are class attributes (not ``code=`` arguments) so that callers in
other domains can catch a refusal by type, e.g. ``except SeekerErased``. An illegal
status move is ``agency.state_machine.IllegalTransition``; an auditor's write attempt
is ``agency.errors.ReadOnly``.
"""

from __future__ import annotations

from agency.errors import Conflict, Forbidden


class ReferenceTaken(Conflict):
    code = "reference_taken"
    message = "This partner already registered a care seeker with that reference."


class SeekerErased(Conflict):
    code = "seeker_erased"
    message = "This care seeker's personal data has been erased."


class ConsentRequired(Conflict):
    code = "consent_required"
    message = "The care seeker has no current consent to introductions; record consent first."


class VersionConflict(Conflict):
    code = "version_conflict"
    message = "The care request was changed since you read it; read it again and retry."


class PartnerOnly(Forbidden):
    code = "partner_only"
    message = "Only the partner client that registered this care seeker may change it."


class ManagerOnly(Forbidden):
    code = "manager_only"
    message = "Only the agency's managers may do this."


class Pseudonymised(Forbidden):
    code = "pseudonymised"
    message = "Auditors see care seekers only pseudonymised, in the register."
