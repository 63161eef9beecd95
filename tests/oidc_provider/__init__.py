"""A small, real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit's
provider in its own Django project, run as its own process (`server.py` starts it)."""
