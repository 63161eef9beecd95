"""`{{ firing.reason|in_reader_language }}`: a stored reason in the reader's language."""

from django import template

from fleet.triage.reasons import in_reader_language as _in_reader_language

register = template.Library()


@register.filter
def in_reader_language(text: object) -> str:
    return _in_reader_language(str(text or ""))
