"""Extension objects, bound to an application in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from contest import ratelimit  # registers the lazy-memory:// storage
from contest.db import Database

db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
limiter.request_filter(ratelimit.skips_views_counting_own_limits)
