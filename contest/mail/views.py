from flask import Blueprint

bp = Blueprint("mail", __name__)
# STUB: replaced by the mail feature.
bp.add_url_rule("/", "mailbox", lambda: "stub")
