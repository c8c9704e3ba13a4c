"""The console's forms: Flask-WTF for the CSRF token and for messages tied to each field.

Forms check only what a browser can get wrong (a missing reason, a too-long text); the
rules of the domain stay in the services, whose refusals are shown next to the form.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

REASON_MAX = 2000


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class PlainForm(FlaskForm):
    """A button with nothing to fill in (sign out, approve a timesheet, start a payment run)."""


class ApproveIntroductionForm(FlaskForm):
    suggestion_id = HiddenField(validators=[DataRequired()])
    note = TextAreaField(
        "Reason for this introduction",
        validators=[
            DataRequired("Say why this provider suits the request."),
            Length(max=REASON_MAX),
        ],
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Give a reason."), Length(max=REASON_MAX)],
    )


class VettingDecisionForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[
            SelectChoice("approve", "Approve"),
            SelectChoice("request_info", "Ask for more information"),
            SelectChoice("reject", "Reject"),
        ],
        validators=[DataRequired("Choose a decision.")],
    )
    reason = TextAreaField(
        "Reason (needed to ask for more or to reject)",
        validators=[Optional(), Length(max=REASON_MAX)],
    )


class ComplianceDecisionForm(FlaskForm):
    decision = RadioField(
        "Evidence",
        choices=[SelectChoice("verify", "Verified"), SelectChoice("reject", "Does not stand")],
        validators=[DataRequired("Choose whether the evidence stands.")],
    )
    note = StringField("Note or reason", validators=[Optional(), Length(max=REASON_MAX)])


class WhyNotForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: it changes nothing

    provider_id = StringField(
        "Provider id", validators=[DataRequired("Enter a provider id."), Length(max=40)]
    )


class IsfApprovalForm(FlaskForm):
    approved = BooleanField("ISF approved provider")
    reason = TextAreaField(
        "Reason (the council's decision)",
        validators=[DataRequired("Record the council's reason."), Length(max=REASON_MAX)],
    )
