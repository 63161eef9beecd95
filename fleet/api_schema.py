"""API bodies declared once, as msgspec Structs: the validation and the OpenAPI schemas of every
JSON API come from the same declaration, so the two cannot drift apart.

A slice declares its request and response bodies as Structs (types, bounds, defaults and
descriptions in `msgspec.Meta`) and its operations in a `paths()` beside them;
`fleet/openapi.py` puts them all in `/api/v1/openapi.json`. `decode_list()` reads a list body
straight into the declared Struct, `convert()` checks parsed JSON and names the field of the
first problem. Rules JSON Schema cannot say (a code notation, a time's bounds) stay in the
slice's own checks after these, and each field's description says them.

msgspec rather than pydantic: the numbers are in docs/performance.md ("API contract").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from django.conf import settings
from django.http import HttpResponse

T = TypeVar("T")
REF_TEMPLATE = "#/components/schemas/{name}"
# msgspec names where a problem is in its message: "... - at `$.device.hostname`", or names a
# missing field: "Object missing required field `code`".
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`")
_SEGMENT = re.compile(r"\.(\w+)|\[\d+\]")


class Error(msgspec.Struct):
    """The body of every error answer that is not about single items."""

    error: str


class FieldError(ValueError):
    """Parsed JSON does not match a declaration: `field` names where, `message` says what."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def convert(value: object, kind: type[T], report_as: Mapping[str, str] | None = None) -> T:
    """`value` (parsed JSON) as an instance of the Struct `kind`, or FieldError.

    The field named is the innermost object key on the problem's path; `report_as` renames some
    (the ingest API reports `device.hostname` as `device`).
    """
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise field_error(str(exc), report_as or {}) from None


class NotAList(ValueError):
    """The body is JSON, but not a list."""


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


@functools.cache
def _decoder(kind: type) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(kind)


def decode_list(body: bytes, kind: type[T]) -> list[T | Any]:
    """The items of a JSON list body: each one decoded straight to `kind` when it is valid,
    else as plain parsed JSON, for `convert()` to name its problem.

    When msgspec cannot read the body at all, `json.loads` reads it (and raises) exactly as it
    always did: a body is never read more leniently or more strictly than by `json.loads`.
    Raises NotAList, or `json.loads`'s ValueError or RecursionError.
    """
    try:
        raws = _RAW_LIST.decode(body)
    except msgspec.ValidationError:
        raise NotAList from None
    except (msgspec.DecodeError, RecursionError):
        return _loads_list(body)
    decoder = _decoder(kind)
    items: list[T | Any] = []
    for raw in raws:
        try:
            items.append(decoder.decode(raw))
        except msgspec.ValidationError:
            items.append(json.loads(bytes(raw)))
        except msgspec.DecodeError:  # such as a string that is not UTF-8
            return _loads_list(body)
    return items


def _loads_list(body: bytes) -> list[Any]:
    items = json.loads(body)
    if not isinstance(items, list):
        raise NotAList
    return items


def field_error(text: str, report_as: Mapping[str, str]) -> FieldError:
    """A FieldError from msgspec's message: the path read out of it, the message kept."""
    at = _AT.search(text)
    path = [name for name in _SEGMENT.findall(at["path"] if at else "") if name]
    problem = text[: at.start()] if at else text
    if missing := _MISSING.match(problem):
        path.append(missing["name"])
        problem = " is required"
    elif unknown := _UNKNOWN.match(problem):
        path.append(unknown["name"])
        problem = " is not a field of this body"
    else:
        problem = ": " + problem[:1].lower() + problem[1:]
    if not path:
        return FieldError("", text)
    field = path[-1]
    return FieldError(report_as.get(field, field), ".".join(path) + problem)


def required_fields(kind: type[msgspec.Struct]) -> set[str]:
    """The fields of `kind` a body must carry (those without a default)."""
    return {info.encode_name for info in msgspec.structs.fields(kind) if info.required}


def schemas(*kinds: type) -> dict[str, dict[str, Any]]:
    """OpenAPI component schemas for `kinds` and every Struct they refer to, by class name."""
    _refs, components = msgspec.json.schema_components(kinds, ref_template=REF_TEMPLATE)
    return components


def ref(kind: type) -> dict[str, str]:
    """A `$ref` to the component schema of `kind` (listed by `schemas`)."""
    return {"$ref": REF_TEMPLATE.format(name=kind.__name__)}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def session_scheme() -> dict[str, str]:
    """The security scheme of an operator's logged-in session, which every API that pages'
    users call shares (one definition, so no slice's replaces another's)."""
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
        "description": "The session of an operator logged in at /login/; a request that "
        "changes something also needs the X-CSRFToken header.",
    }


def error_answer(description: str) -> dict[str, Any]:
    """An answer whose body is `Error`."""
    return {"description": description, "content": json_content(ref(Error))}


def json_answer(body: msgspec.Struct, status: int = 200) -> HttpResponse:
    """`body` encoded from its declaration, so what an API serves is what its document says."""
    return HttpResponse(msgspec.json.encode(body), status=status, content_type="application/json")


def iso_moment(value) -> str | None:
    """A datetime as the APIs serve it: ISO 8601 in UTC with a Z, or None."""
    return value.isoformat().replace("+00:00", "Z") if value else None
