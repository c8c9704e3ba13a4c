"""HTTP routes: Councils, agencies, neighbourhoods and service types."""

from flask_smorest import Blueprint

blp = Blueprint(
    "directory",
    __name__,
    url_prefix="/",
    description="Councils, agencies, neighbourhoods and service types",
)
