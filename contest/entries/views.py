from flask import Blueprint

bp = Blueprint("entries", __name__)
# STUB: replaced by the entries feature.
for _name in ("mine", "new"):
    bp.add_url_rule(f"/{_name}", _name, lambda: "stub", methods=["GET", "POST"])
