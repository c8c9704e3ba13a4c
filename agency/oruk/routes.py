"""HTTP routes: Open Referral UK view of approved providers."""

from flask_smorest import Blueprint

blp = Blueprint(
    "oruk", __name__, url_prefix="/oruk", description="Open Referral UK view of approved providers"
)
