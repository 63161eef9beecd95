"""Signing in to the operator site: login and logout pages, and the login throttle."""
