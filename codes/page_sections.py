"""Sections other apps add to a code's knowledge page, wired by the project settings.

The codes app owns the page but knows nothing of who adds to it: `KNOWLEDGE_PAGE_SECTIONS` lists
dotted paths of callables `(request, value) -> {"template": name, **context}`, loaded like context
processors. Each section's context is merged into the page's (so a section keeps its keys under
one name of its own) and its template is included where the page shows contributed sections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

Section = Callable[[HttpRequest, int], dict[str, Any]]


def section_builders() -> list[Section]:
    """The configured section callables, in the order the page shows them."""
    return [import_string(path) for path in getattr(settings, "KNOWLEDGE_PAGE_SECTIONS", [])]


def page_sections(request: HttpRequest, value: int) -> tuple[list[str], dict[str, Any]]:
    """Every section's template, in order, and their merged context for the code `value`."""
    templates: list[str] = []
    context: dict[str, Any] = {}
    for build in section_builders():
        section = dict(build(request, value))
        templates.append(section.pop("template"))
        context.update(section)
    return templates, context
