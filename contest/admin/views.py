from flask import Blueprint

bp = Blueprint("admin", __name__)
# STUB: replaced by the admin feature.
bp.add_url_rule("/", "index", lambda: "stub")
