"""The codes API's answer, declared for `/api/v1/openapi.json` (`fleet/api_schema.py`).

`tests/codes/test_api.py` checks that the declared fields are exactly the keys served.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from codes.decode import HresultFields, NtStatusInfo, Win32Info
from fleet.api_schema import error_answer, json_content, ref, schemas, session_scheme


class FaqEntry(Struct):
    q: str
    a: str


class CodeAnswer(Struct):
    """The decode of a code (the keys of `manage.py decode --json`) and its curated knowledge,
    Markdown left as Markdown."""

    hex: str
    value: int
    unsigned: int
    signed: int
    extension: str
    name: str  # the symbolic name, else the documented title (see name_kind)
    name_kind: str  # "symbolic" | "title" | "" (no name known)
    symbolic_name: str
    given_name: str
    other_names: list[str]
    message: str
    message_source: str
    title: str
    header: str
    component: str
    facility: int
    facility_name: str
    hresult_severity: str
    hresult: HresultFields
    severity: str
    severity_reason: str
    family: str
    family_name: str
    win32: Win32Info | None
    ntstatus: NtStatusInfo | None
    curated: bool
    in_catalog: bool
    sources: list[str]
    url: str
    description: str
    causes: str
    steps: str
    faq: list[FaqEntry]
    where_logged: str
    family_summary: str
    family_troubleshooting: str
    decode_snippet: str


def paths() -> dict[str, Any]:
    """The codes API's operation, for `/api/v1/openapi.json`."""
    return {
        "/api/v1/codes/{code}": {
            "get": {
                "summary": "Decode a code and read its curated knowledge",
                "description": "Any notation a code page URL accepts: 0x8024000B, 8024000B, "
                "-2145124341, 2149842955, 0xC1900101_C3FD.",
                "security": [{"session": []}],
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The decode and the knowledge.",
                        "content": json_content(ref(CodeAnswer)),
                    },
                    "401": error_answer("Not logged in."),
                    "404": error_answer("Not an error code in any notation."),
                },
            }
        }
    }


def components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "session": session_scheme(),
        },
        "schemas": schemas(CodeAnswer),
    }
