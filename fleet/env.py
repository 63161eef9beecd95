"""Strict readers for settings taken from environment variables.

A typo in a deployment's environment should stop the process at start with a message naming the
variable, not surface later as odd behaviour.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ImproperEnvironment(Exception):
    """An environment variable holds a value we cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperEnvironment(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no"
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperEnvironment(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperEnvironment(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_database_url(url: str, base_dir: Path) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name` into a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as in dj-database-url.
        path = unquote(parts.path)
        if path.startswith("/"):
            path = path[1:]
        if not path:
            raise ImproperEnvironment(f"DATABASE_URL={url!r} names no SQLite file")
        file = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(file),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                # WAL lets pages read while a worker writes; a 64 MB page cache (the default is
                # 2 MB) keeps the occurrence indexes' hot pages through a bulk import.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
                ),
            },
            "TEST": {"NAME": str(file.with_name(f"test_{file.name}"))},
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperEnvironment(f"DATABASE_URL={url!r} names no database")
        try:
            port = parts.port
        except ValueError:
            raise ImproperEnvironment(f"DATABASE_URL={url!r} has a bad port") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperEnvironment(
        f"DATABASE_URL={url!r}: unsupported scheme {scheme!r}; use sqlite:/// or postgres://"
    )


def check_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "memory"}:
        raise ImproperEnvironment(f"REDIS_URL={url!r}: scheme must be redis:// or rediss://")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ImproperEnvironment(f"REDIS_URL={url!r} has a bad port") from None
    return url


_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def check_color(name: str, value: str) -> str:
    """A CSS colour as #rgb or #rrggbb: it lands inside the reports' style sheet, so nothing
    else may pass."""
    value = value.strip()
    if not _HEX_COLOR.match(value):
        raise ImproperEnvironment(f"{name}={value!r} is not a colour like #1f4e79")
    return value


def check_logo_url(name: str, value: str) -> str:
    """An https:// (or http://) address or a data:image/ URL; empty for no logo."""
    value = value.strip()
    if value and not value.lower().startswith(("https://", "http://", "data:image/")):
        raise ImproperEnvironment(f"{name}={value[:60]!r}: use an https:// or data:image/ URL")
    return value


def check_oidc(client_id: str, issuer: str, endpoints: dict[str, str], scopes: str) -> None:
    """Single sign-on needs a client id and either an issuer (discovery) or the three endpoints
    the code flow cannot do without; half a configuration is a typo, not a choice."""
    named = {name: url for name, url in endpoints.items() if url}
    if not client_id:
        if issuer or named:
            name, url = ("OIDC_ISSUER", issuer) if issuer else next(iter(named.items()))
            raise ImproperEnvironment(f"{name}={url!r} is set but OIDC_CLIENT_ID is empty")
        return
    if not issuer and len(named) < len(endpoints):
        missing = ", ".join(name for name in endpoints if name not in named)
        raise ImproperEnvironment(
            f"OIDC_CLIENT_ID is set: set OIDC_ISSUER (discovery), or else {missing}"
        )
    for name, url in [("OIDC_ISSUER", issuer), *named.items()]:
        if url and urlsplit(url).scheme not in {"https", "http"}:
            raise ImproperEnvironment(f"{name}={url!r} is not an http(s) URL")
    if "openid" not in scopes.split():
        raise ImproperEnvironment(f"OIDC_SCOPES={scopes!r} must include openid")
