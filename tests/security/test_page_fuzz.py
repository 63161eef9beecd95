"""Every page, as a logged-in operator, under hostile query parameters and form fields: never a 5xx.

The pages come from walking the URL resolver, so a new page is fuzzed without editing this file
(`test_every_page_is_reached` fails if the crawl cannot find a way to it). Two crawls, one as the
operator and one as a superuser, start from the pages without path parameters and note for each
page the real requests the site makes of it: links, GET forms, POST forms with their fields,
buttons and file inputs, and every name the view reads from a QueryDict. The operator's requests
are the seeds; the superuser's add the path values of objects of a tenant the operator is not
granted (which must answer 404, not 500).

Each page then gets, as Hypothesis's explicit examples, every seed with its dates or numbers at
each edge (9999-12-31, 2**63, "²"...), followed by generated examples: a seed with a field or two
hostile, everything hostile, a typed field at an edge, or a path value swapped. Runs are
derandomized (the same examples every run); PAGE_FUZZ_SCALE=10 runs ten times as many.

Not fuzzed here: the Django admin (Django's own pages, staff only), the ingest API's bearer-key
endpoint `/api/v1/occurrences`, which has its own fuzz in tests/security/test_api_input.py, and
the triage API's JSON action endpoint `/api/v1/triage/<id>`, fuzzed in
tests/fleet/triage/test_api.py (its list, `GET /api/v1/triage`, is fuzzed here).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from codes.models import RunbookNote
from fleet.alerts.models import AlertDelivery, AlertFiring
from fleet.api_auth import create_api_token
from fleet.connectors.models import Connector
from fleet.ingest.keys import create_ingest_key
from fleet.ingest.models import ImportRecord
from fleet.models import Tenant
from fleet.triage.models import TriageFlag
from tests.dashboards.fleet_data import CANCELLED, NOT_FOUND, catalog, fleet
from tests.factories import UserFactory, alert_rule, client_for
from tests.services import broker

pytestmark = pytest.mark.django_db

EXCLUDED_ROUTE_PREFIXES = ("admin/",)  # Django's admin: not our code, staff only
EXCLUDED_VIEWS = {
    "ingest:api-occurrences",  # bearer-key ingest: tests/security/test_api_input.py
    "triage:api-flag",  # a JSON body, linked from no page: tests/fleet/triage/test_api.py fuzzes it
    # JSON bodies for one rule, linked from no page: tests/fleet/alerts/test_api.py tries them.
    "alerts:api-rule",
    "alerts:api-rule-test",
    # A one-time link sent by email, never shown on a page: tests/fleet/accounts tries it.
    "invitation",
}
# Names a view may read that no link or form of the crawl happens to show.
KNOWN_NAMES = (
    "range", "from", "to", "tenant", "code", "device", "q", "page", "sort", "family", "severity",
    "status", "state", "stack", "ext", "curated", "next", "action", "note", "body", "format",
    "column_map", "muted_until", "mute_occurrences", "view", "kind", "assigned", "flag",
    "assignee", "limit",
)  # fmt: skip
# Valid requests no page links to before the operator picks them, added to every request of a
# page that reads the first name: the custom range.
KNOWN_QUERIES = {"range": {"range": ["custom"], "from": ["2026-01-01"], "to": ["2026-01-31"]}}
CRAWL_VISITS_PER_PAGE = 4
SCALE = int(os.environ.get("PAGE_FUZZ_SCALE", "1"))
EXAMPLES_PER_SEED, MIN_EXAMPLES, MAX_EXAMPLES = 8 * SCALE, 20 * SCALE, 80 * SCALE

# Hostile values. Text goes through urlencoding, so anything a browser could send is fair.
NASTY = (
    "", " ", "\x00", "a\x00b", "\t\r\n", "-", "0", "-0", "-1", "+1", "007", "1.5", "1e309", "NaN",
    "-inf", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807",
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", "9" * 400, "²", "٣",
    "１２", "𝟗", "Ⅻ", "½", "0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "10000-01-01",
    "-2026-01-01", "2026-W01", "0x", "0xFFFFFFFFFFFFFFFF", "'", '"', "' OR '1'='1",
    "1; DROP TABLE fleet_tenant; --", "%", "%%", "_", "\\", "<script>alert(1)</script>",
    "{{ 7|add:7 }}", "{% debug %}", "../../../etc/passwd", "//evil.example/", "javascript:alert(1)",
    "\u202e", "\ufeff", "🙂", "x" * 20_000,
)  # fmt: skip
EDGES = {
    "date": ("0001-01-01", "9999-12-31"),
    # "²" is a digit to str.isdigit() but not to int() (NASTY has "١٢", 12 to both).
    "int": ("-1", "2147483648", "9223372036854775808", "1" + "0" * 30, "²"),
}
KINDS = {"date": "date", "number": "int"}  # <input type=...> -> kind
FILE_CONTENTS = (
    b"",
    b"MachineName,LastEnforcementTime,ErrorCode\nPC-1,2026-01-05 10:00:00,0x8024000B\n",
    b"MachineName,LastEnforcementTime,ErrorCode\nPC-1,9999-12-31 23:59:59,99999999999999999999\n",
    b"\xff\xfe\x00\x00garbage",
    b"PK\x03\x04" + b"\x00" * 60,
)


@dataclass(frozen=True)
class Page:
    view: str  # "dashboards:device", or the route for a nameless pattern
    route: str  # "devices/<int:pk>/"
    path_params: tuple[str, ...]


@dataclass
class Seed:
    """One real request of a page, as a link or a form of the site makes it."""

    method: str
    kwargs: dict[str, str]
    fields: dict[str, list[str]]
    files: tuple[str, ...] = ()
    origin: str = "site"  # or "known": from KNOWN_QUERIES

    def key(self) -> tuple:
        return (self.method, sorted(self.kwargs.items()), sorted(self.fields.items()), self.files)


@dataclass(repr=False)
class Discovered:
    seeds: dict[str, list[Seed]] = field(default_factory=lambda: defaultdict(list))
    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # per route
    kinds: dict[str, str] = field(default_factory=dict)  # field name -> "date" / "int"
    # route -> path parameter -> values seen, of any tenant (from the superuser's crawl)
    path_values: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))

    def __repr__(self) -> str:
        return f"<{sum(map(len, self.seeds.values()))} requests of {len(self.seeds)} pages>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # Hypothesis prints it so
        printer.text(repr(self))

    def add(self, route: str, seed: Seed) -> None:
        for name, value in seed.kwargs.items():
            self.path_values[route][name].add(value)
        if all(seed.key() != known.key() for known in self.seeds[route]):
            self.seeds[route].append(seed)
        self.names[route] |= set(seed.fields)


def project_pages() -> list[Page]:
    """Every URL pattern of the project but the exclusions above."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Page]:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(EXCLUDED_ROUTE_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace]))
                yield from walk(entry.url_patterns, route, inner)
                continue
            assert isinstance(entry.pattern, RoutePattern), f"teach this test re_path {route!r}"
            view = ":".join(filter(None, [namespace, entry.name])) if entry.name else route
            if view not in EXCLUDED_VIEWS:
                yield Page(view, route, tuple(entry.pattern.converters))

    return list(walk(get_resolver().url_patterns, "", ""))


def page_url(page: Page, kwargs: dict[str, str]) -> str:
    return "/" + re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: quote(kwargs[m.group(1)], safe=""), page.route
    )


class _Forms(HTMLParser):
    """Links and forms of a page: what a browser could request from it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(
                {
                    "method": a.get("method", "get").upper(),
                    "action": a.get("action", ""),
                    "fields": {},  # name -> default value
                    "choices": defaultdict(list),  # name -> values a control offers
                    "buttons": [],
                    "files": [],
                }
            )
        elif tag == "option" and form is not None and self._select:
            form["choices"][self._select].append(a.get("value", ""))
            if "selected" in a or not form["fields"][self._select]:
                form["fields"][self._select] = a.get("value", "")
        elif form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                form["files"].append(a["name"])
            elif kind in ("submit", "image"):
                form["buttons"].append((a["name"], a.get("value", "")))
            elif kind not in ("checkbox", "radio"):
                form["fields"][a["name"]] = a.get("value", "")
            else:
                form["choices"][a["name"]].append(a.get("value", "on"))
                if "checked" in a:
                    form["fields"][a["name"]] = a.get("value", "on")
            form.setdefault("kinds", {})[a["name"]] = KINDS.get(kind, "")
        elif tag == "button":
            form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
            form["fields"].setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            form["fields"][a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


@contextlib.contextmanager
def reads_recorded() -> Iterator[set[str]]:
    """Every key looked up in any QueryDict meanwhile: the parameters a view reads."""
    names: set[str] = set()

    def spy(name: str):
        original = getattr(QueryDict, name)

        def read(self, key, *args, **kwargs):
            names.add(key)
            return original(self, key, *args, **kwargs)

        return mock.patch.object(QueryDict, name, read)

    with spy("get"), spy("getlist"), spy("__getitem__"), spy("__contains__"):
        yield names


def _route_of(url: str, by_route: dict[str, Page]) -> tuple[Page, dict[str, str]] | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    page = by_route.get(match.route)
    return (page, {k: str(v) for k, v in match.kwargs.items()}) if page else None


def _query(url: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        fields[name].append(value)
    return dict(fields)


def crawl(client: Client, pages: list[Page]) -> Discovered:
    """Follow links from the pages without path parameters; note every request the site makes."""
    found = Discovered()
    by_route = {page.route: page for page in pages}
    queue = [page_url(page, {}) for page in pages if not page.path_params]
    visits: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    while queue:
        url = queue.pop(0)
        target = _route_of(url, by_route)
        if url in seen or target is None or visits[target[0].route] >= CRAWL_VISITS_PER_PAGE:
            continue
        seen.add(url)
        page, kwargs = target
        visits[page.route] += 1
        with reads_recorded() as read:
            response = client.get(url)
        found.add(page.route, Seed("GET", kwargs, _query(url)))
        found.names[page.route] |= read
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(response.content.decode())
        for href in parser.links:
            queue.append(href)
            if linked := _route_of(href, by_route):
                found.add(linked[0].route, Seed("GET", linked[1], _query(href)))
        for form in parser.forms:
            action = form["action"] or url.split("?")[0]
            if not (posted := _route_of(action, by_route)):
                continue
            for name, kind in form.get("kinds", {}).items():
                if kind:
                    found.kinds[name] = kind
            # The test client skips CSRF checks; a token per page would only multiply the seeds.
            base = {
                name: [value]
                for name, value in form["fields"].items()
                if name != "csrfmiddlewaretoken"
            }
            # One request per choice a control offers, so every action gets its turn.
            variants = [{**base, name: [value]} for name, value in form["buttons"]] or [base]
            variants += [
                {**base, name: [value]}
                for name, values in form["choices"].items()
                for value in values
                if [value] != base.get(name)
            ]
            for fields in variants:
                found.add(
                    posted[0].route,
                    Seed(form["method"], posted[1], fields, tuple(form["files"])),
                )
    for page in pages:
        # A page only scripts fetch (an import's status.json) takes the path values of the page
        # its route extends (the import's page).
        for other in pages:
            if (
                not found.seeds[page.route]
                and other.path_params == page.path_params
                and page.route.startswith(other.route)
            ):
                for seed in found.seeds[other.route]:
                    found.add(page.route, Seed("GET", seed.kwargs, {}))
        for trigger, query in KNOWN_QUERIES.items():
            if trigger in found.names[page.route]:
                for seed in list(found.seeds[page.route]):
                    if seed.method == "GET":
                        found.add(
                            page.route,
                            Seed("GET", seed.kwargs, {**seed.fields, **query}, origin="known"),
                        )
    return found


# Values ---------------------------------------------------------------------------------------

text_values = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.integers().map(str),
    st.dates().map(str),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.sampled_from(NASTY)),
    st.binary(min_size=1, max_size=6),  # bytes that are not UTF-8, percent-encoded as they are
)


def hostile(kind: str):
    return st.sampled_from(EDGES[kind]) | text_values if kind in EDGES else text_values


@dataclass
class Request:
    method: str
    url: str
    fields: dict[str, list[str | bytes]]
    files: dict[str, bytes]

    def send(self, client: Client):
        if self.method == "GET":
            query = urlencode([(k, v) for k, vs in self.fields.items() for v in vs])
            return client.get(f"{self.url}?{query}" if query else self.url)
        if self.files:
            data = {k: [_text(v) for v in vs] for k, vs in self.fields.items()}
            for name, content in self.files.items():
                data[name] = SimpleUploadedFile("export.csv", content, "text/csv")
            return client.post(self.url, data)
        body = urlencode([(k, v) for k, vs in self.fields.items() for v in vs])
        return client.post(self.url, body, content_type="application/x-www-form-urlencoded")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _kind(found: Discovered, name: str, values: list[str]) -> str:
    if name in found.kinds:
        return found.kinds[name]
    return "int" if values and all(v.isascii() and v.isdigit() for v in values) else ""


def _chance(one_in: int):
    return st.integers(0, one_in - 1).map(lambda n: n == 0)


def shapes(found: Discovered, page: Page) -> list[list[Seed]]:
    """The page's real requests grouped by method, origin and the names they carry."""
    groups: dict[tuple, list[Seed]] = defaultdict(list)
    for seed in found.seeds[page.route] or [Seed("GET", {}, {})]:
        groups[(seed.method, seed.origin, *sorted(seed.kwargs), "?", *sorted(seed.fields))].append(
            seed
        )
    return list(groups.values())


def examples_for(found: Discovered, page: Page) -> int:
    return max(MIN_EXAMPLES, min(MAX_EXAMPLES, EXAMPLES_PER_SEED * len(found.seeds[page.route])))


def edge_sweep(page: Page, found: Discovered) -> list[Request]:
    """Each real request with its typed fields at each edge of their kind, all else unchanged:
    the explicit examples, run before the generated ones."""
    sweep: dict[str, Request] = {}
    for seed in found.seeds[page.route]:
        for kind, values in EDGES.items():
            typed = [name for name, v in seed.fields.items() if _kind(found, name, v) == kind]
            for value in values if typed else ():
                fields = {**seed.fields, **{name: [value] for name in typed}}
                request = Request(seed.method, page_url(page, seed.kwargs), fields, {})
                request.files = {name: FILE_CONTENTS[1] for name in seed.files}
                sweep.setdefault(repr(request), request)
    return list(sweep.values())


@st.composite
def requests_for(draw, page: Page, found: Discovered) -> Request:
    """A real request of `page`, mutated."""
    # A shape first, so a rare one gets its share; one with more fields has more to fuzz.
    groups = shapes(found, page)
    weighted = [group for group in groups for _ in range(1 + len(group[0].fields))]
    seed = draw(st.sampled_from(draw(st.sampled_from(weighted))))
    fields = {name: list(values) for name, values in seed.fields.items()}
    kwargs = dict(seed.kwargs)
    # Now and then a typed field (a date, a number) at an edge; the dates share theirs, so a
    # range can run from 9999-12-31 to 9999-12-31. (The edge sweep tries each edge alone.)
    edge = {kind: draw(st.sampled_from(values)) for kind, values in EDGES.items()}
    for name, values in fields.items():
        if (kind := _kind(found, name, values)) and draw(_chance(4)):
            fields[name] = [edge[kind]]
    # Mostly the request's own fields; sometimes any name the page or the project reads.
    names = sorted(fields) if fields and draw(_chance(4).map(lambda n: not n)) else []
    names = names or sorted(found.names[page.route] | set(KNOWN_NAMES) | set(fields))
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        kind = _kind(found, name, fields.get(name, []))
        fields[name] = draw(st.lists(hostile(kind), max_size=2))
    if draw(_chance(8)):
        fields = {name: [draw(hostile(_kind(found, name, v)))] for name, v in fields.items()}
    if page.path_params and draw(_chance(4)):
        name = draw(st.sampled_from(page.path_params))
        real = sorted(found.path_values[page.route][name]) or [""]
        kwargs[name] = draw(st.sampled_from(real) | hostile("int") | text_values)
    files = {name: draw(st.sampled_from(FILE_CONTENTS)) for name in seed.files}
    return Request(seed.method, page_url(page, kwargs), fields, files)


# The fleet ------------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path, settings, redis_server):
    """A small fleet of three tenants; the operator is granted two (one of them empty).

    Redis is up, so a page that reports on the broker has no reason to answer 503."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    now = timezone.now()
    acme = Tenant.objects.create(slug="acme", name="Acme Corp")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    initech = Tenant.objects.create(slug="initech", name="Initech")
    catalog()
    fleet(acme, globex, now)
    operator = UserFactory(username="olivia")
    colleague = UserFactory(username="carl")
    for user in (operator, colleague):
        acme.operators.add(user)
        initech.operators.add(user)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    for tenant in (acme, globex):
        TriageFlag.objects.create(
            tenant=tenant, code=CANCELLED, occurrences=12, devices=3, last_seen_at=now
        )
        TriageFlag.objects.create(
            tenant=tenant,
            code=NOT_FOUND,
            state=TriageFlag.State.MUTED,
            mute_occurrences=5,
            mute_baseline=3,
            muted_until=now + timedelta(days=3),
        )
        ImportRecord.objects.create(
            tenant=tenant,
            user=operator,
            file_name="export.csv",
            status=ImportRecord.Status.DONE,
            format="configmgr",
            rejected=[{"line": 2, "reason": "ErrorCode 'x' is not a code"}],
            rejected_count=1,
        )
    everywhere = alert_rule(
        name="Cancelled anywhere", code=CANCELLED, min_occurrences=2, recipients="noc@example.test"
    )
    firings = [
        AlertFiring.objects.create(
            rule=everywhere, tenant=tenant, code=CANCELLED, occurrences=12, devices=3,
            window_hours=24,
        )
        for tenant in (acme, globex)
    ]  # fmt: skip
    digest = AlertDelivery.objects.create(
        recipient="noc@example.test", subject="2 alerts", body_text="-", body_html="-",
        attempts=1, last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )  # fmt: skip
    digest.firings.set(firings)
    for author in (operator, colleague):
        # Notes may belong to a tenant (issue 12, item 7); give them one where they do.
        extra = {"tenant": acme} if hasattr(RunbookNote, "tenant") else {}
        RunbookNote.objects.create(code=CANCELLED, author=author, body="Restart BITS.", **extra)
    # A connector that failed, with its reports; its "test connection" and pulls reach only a
    # loopback port nothing listens on, never Microsoft.
    for name in ("MS_LOGIN_URL", "MS_GRAPH_URL", "LOG_ANALYTICS_URL"):
        setattr(settings, name, "https://127.0.0.1:9")
    connector = Connector(
        tenant=acme,
        entra_tenant_id="2b3c4d5e-0000-4000-8000-00000000aaaa",
        client_id="6f1e2d3c-0000-4000-8000-00000000bbbb",
        last_status=Connector.Status.FAILED,
        last_error="Entra ID refused the app registration (invalid_client): AADSTS7000215",
        last_reports=[
            {
                "report": "UCUpdateAlert",
                "policy": "",
                "import_id": None,
                "rows": 0,
                "created": 0,
                "error": "<b>querying</b>",
            }
        ],  # fmt: skip
    )
    connector.set_client_secret("s3cret")
    connector.save()
    # A key and a token, so the settings pages show their revoke forms to the crawl.
    create_ingest_key(acme, "endpoint script")
    create_api_token(root, "scripts")
    pages = project_pages()
    # The report's PDF is Chromium's (seconds each, tested in tests/fleet/reports/); here only
    # the view around it is fuzzed.
    pdf = mock.patch("fleet.reports.views.html_to_pdf", return_value=b"%PDF-1.4 fuzz")
    with broker(redis_server.url), pdf:
        yield {"operator": operator, "pages": pages, "found": discover(pages, operator, root)}


def discover(pages: list[Page], operator, superuser) -> Discovered:
    """The operator's own requests of each page, and the path values of every tenant's objects.

    Requests come from the operator's crawl (what they can do); a page only a superuser reaches
    keeps the superuser's. Objects of a tenant the operator is not granted are tried by the
    path mutation."""
    crawls = []
    for user in (operator, superuser):
        client = client_for(user)
        crawls.append(crawl(client, pages))
    own, everything = crawls
    for route, seeds in everything.seeds.items():
        if not own.seeds[route]:
            own.seeds[route] = seeds
        own.names[route] |= everything.names[route]
        for name, values in everything.path_values[route].items():
            own.path_values[route][name] |= values
    own.kinds = {**everything.kinds, **own.kinds}
    return own


def _summary(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_summary(inner) for inner in exc.exceptions)
    notes = getattr(exc, "__notes__", [])  # ours first: the request
    return f"{exc!r}"[:300] + (f" <- {notes[0]}" if notes else "")


# Tests ----------------------------------------------------------------------------------------


def test_every_page_is_reached(site):
    missing = [page.view for page in site["pages"] if not site["found"].seeds[page.route]]
    assert not missing, f"no link or form of the site reaches {missing}: link them or seed them"


def test_no_page_answers_a_server_error_to_hostile_parameters_or_fields(site):
    operator, found = site["operator"], site["found"]
    client = Client(raise_request_exception=False)
    failures: list[str] = []

    for page in site["pages"]:

        @settings(
            max_examples=examples_for(found, page),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=requests_for(page, found))
        def fuzz(request: Request) -> None:
            # Each request on its own savepoint: no example leaves state to the next one, and a
            # database error (an aborted PostgreSQL transaction) cannot spill over either.
            with transaction.atomic():
                client.force_login(operator)
                response = request.send(client)
                transaction.set_rollback(True)
            described = f"{request.method} {request.url[:200]} {str(request.fields)[:400]}"
            if error := getattr(response, "exc_info", None):
                # Raised from where it happened, so Hypothesis tells two bugs of a page apart.
                error[1].add_note(described)
                raise error[1].with_traceback(error[2])
            assert response.status_code < 500, f"{described} -> {response.status_code}"
            assert b"Server Error (500)" not in response.content, described

        for request in edge_sweep(page, found):
            fuzz = example(request=request)(fuzz)
        try:
            fuzz()
        except Exception as exc:  # every page is tried before the test fails
            failures.append(f"{page.view}: {_summary(exc)}")

    assert not failures, "\n".join(failures)
