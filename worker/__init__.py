"""The background worker: the Celery application and the media jobs.

Jobs import the domain from ``contest``; ``contest`` never imports ``worker``.
"""
