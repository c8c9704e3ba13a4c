"""HTTP routes: Micro-provider profiles, availability, compliance and vetting."""

from flask_smorest import Blueprint

blp = Blueprint(
    "providers",
    __name__,
    url_prefix="/providers",
    description="Micro-provider profiles, availability, compliance and vetting",
)
