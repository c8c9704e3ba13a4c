"""HTTP routes: Care seekers, consent and care requests."""

from flask_smorest import Blueprint

blp = Blueprint(
    "seekers", __name__, url_prefix="/", description="Care seekers, consent and care requests"
)
