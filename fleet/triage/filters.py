"""The triage queue's filter, read from a query string; the page and the API share it.

`?tenant=` (repeatable, slugs, parsed by `fleet.access.picked_tenants` as on every other page),
`state`, `kind` (repeatable), `view` (`all` grouped, `now`, `steady`), `assigned=me`, `code`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext_lazy

from codes.parse import CodeError, parse_code
from fleet.access import picked_tenants
from fleet.models import Tenant
from fleet.triage.models import TriageFlag

STATE_FILTERS = ["open", *TriageFlag.State.values, "all"]
OPEN_FILTERS = {"open", *TriageFlag.OPEN_STATES}
VIEWS = {
    "all": gettext_lazy("Everything, grouped"),
    "now": gettext_lazy("Needs a look now"),
    "steady": gettext_lazy("Steady recurring"),
}


@dataclass
class QueueFilter:
    """Which flags a queue request asks for. `tenants` holds only tenants the user may see."""

    tenants: list[Tenant]
    visible: list[Tenant]
    selected_slugs: list[str] = field(default_factory=list)
    state: str = "open"
    kinds: list[str] = field(default_factory=list)
    view: str = "now"
    assignee_id: int | None = None
    code: int | None = None
    code_text: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (parameter, message)

    @property
    def tenant_ids(self) -> list[int]:
        return [t.pk for t in self.tenants]

    @property
    def assigned_to_me(self) -> bool:
        return self.assignee_id is not None

    def params(self) -> list[tuple[str, str]]:
        """The filter as query parameters, to keep it on pagination links."""
        pairs = [("tenant", slug) for slug in self.selected_slugs]
        pairs += [("state", self.state), ("view", self.view)]
        pairs += [("kind", kind) for kind in self.kinds]
        if self.assigned_to_me:
            pairs.append(("assigned", "me"))
        if self.code_text:
            pairs.append(("code", self.code_text))
        return pairs


def queue_filter(params: QueryDict, user, *, default_view: str = "all") -> QueueFilter:
    """Read the queue filter; a bad value is reported in `errors` and falls back to the default.

    Without `view`, open states get `default_view` (the page: `all`, needs-a-look grouped
    above the steady flags; the API: `now`) and other states `all`: a resolved or muted flag is
    never news, so `?state=resolved` alone lists every resolved flag.
    """
    slugs = [slug for slug in params.getlist("tenant") if slug]
    visible, tenants = picked_tenants(user, slugs)
    errors: list[tuple[str, str]] = []
    state = params.get("state", "open")
    if state not in STATE_FILTERS:
        errors.append(("state", f"Unknown state {state[:40]!r}; showing open flags."))
        state = "open"
    kinds = []
    for kind in params.getlist("kind"):
        if kind in TriageFlag.Kind.values:
            kinds.append(kind)
        elif kind:
            errors.append(
                ("kind", f"Unknown kind {kind[:40]!r}; use {', '.join(TriageFlag.Kind.values)}.")
            )
    view = params.get("view", "")
    if view and view not in VIEWS:
        errors.append(("view", f"Unknown view {view[:40]!r}; use {', '.join(VIEWS)}."))
        view = ""
    view = view or (default_view if state in OPEN_FILTERS else "all")
    assigned = params.get("assigned", "")
    if assigned not in ("", "me"):
        errors.append(("assigned", "Use assigned=me, or leave it out."))
    code, code_text = None, params.get("code", "").strip()
    if code_text:
        try:
            code = parse_code(code_text).value
        except CodeError as exc:
            errors.append(("code", f"code: {exc}"))
    return QueueFilter(
        tenants=tenants,
        visible=visible,
        selected_slugs=slugs,
        state=state,
        kinds=kinds,
        view=view,
        assignee_id=user.pk if assigned == "me" and user.is_authenticated else None,
        code=code,
        code_text=code_text,
        errors=errors,
    )
