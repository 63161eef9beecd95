"""`{{ text|markdown }}` for curated knowledge text (ours, reviewed in git or edited in admin).

Raw HTML in the source is escaped, not passed through, and links keep only safe schemes, so an
admin edit cannot inject markup. Operators' runbook notes never go through here: they are shown
with `linebreaks`, fully escaped.
"""

from __future__ import annotations

import markdown as markdown_lib
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

register = template.Library()

_SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


class _SafeLinks(Treeprocessor):
    def run(self, root):
        for element in root.iter("a"):
            if not element.get("href", "").lower().startswith(_SAFE_SCHEMES):
                element.attrib.pop("href", None)
        for element in root.iter("img"):
            if not element.get("src", "").lower().startswith(_SAFE_SCHEMES):
                element.attrib.pop("src", None)


class _NoRawHtml(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (the markdown package's API name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)


def render_markdown(text: str) -> SafeString:
    """HTML for trusted Markdown with raw HTML escaped."""
    html = markdown_lib.markdown(
        text or "", extensions=["fenced_code", "sane_lists", _NoRawHtml()], output_format="html"
    )
    return mark_safe(html)  # noqa: S308 (raw HTML was disabled above; Markdown escapes text)


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text)
