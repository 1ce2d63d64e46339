from flask import Blueprint

bp = Blueprint("auth", __name__)
# STUB: replaced by the auth feature.
for _name in ("login", "logout", "register", "resend_verification", "unverified"):
    bp.add_url_rule(f"/{_name}", _name, lambda: "stub", methods=["GET", "POST"])
