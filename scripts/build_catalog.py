#!/usr/bin/env python3
"""Regenerate codes/data/catalog.json.gz from public sources.

    python3 scripts/build_catalog.py            # writes codes/data/catalog.json.gz

Sources (see codes/data/README.md for licences):
- symbolic names: Windows SDK headers shipped by Debian's `mingw-w64-common`
  (/usr/share/mingw-w64/include: winerror.h, ntstatus.h, wuerror.h, lmerr.h, bitsmsg.h,
  winhttp.h, wininet.h, vsserror.h);
- message texts: the [MS-ERREF] tables in the `impacket` package (system_errors,
  hresult_errors, nt_errors). impacket is NOT a project dependency: this script installs it
  with `pip install --no-deps` into a throwaway venv (CATALOG_VENV, default /tmp/catalog-venv)
  and re-runs itself there;
- Microsoft's "Windows Update error codes by component" and "Windows Update common errors and
  mitigation" pages (CC BY 4.0): which codes they list, the component each Windows Update range
  belongs to, names the headers lack (0x800F0922 CBS_E_INSTALLERS_FAILED), and the one-line
  message texts of Windows Update codes, which [MS-ERREF] lacks. The messages are read from
  extracts committed under scripts/sources/ (each names its commit and licence), so the build
  needs no network; they fill only codes that [MS-ERREF] gives no message.

The output is deterministic (sorted, no timestamps) so a re-run without source changes gives
an identical file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "codes" / "data" / "catalog.json.gz"
INCLUDE = Path(os.environ.get("MINGW_INCLUDE", "/usr/share/mingw-w64/include"))
VENV = Path(os.environ.get("CATALOG_VENV", "/tmp/catalog-venv"))  # noqa: S108 - throwaway
SOURCES = Path(os.environ.get("CATALOG_SOURCES", REPO / "scripts" / "sources"))  # extracts

# Header order is name priority: the first header that names a value gives its primary name.
HEADERS = [
    "wuerror.h",
    "winerror.h",
    "bitsmsg.h",
    "vsserror.h",
    "lmerr.h",
    "winhttp.h",
    "wininet.h",
    "ntstatus.h",
]
# The same headers from the full Windows SDK (microsoft/win32metadata), as extracted by
# scripts/extract_sdk_headers.py into scripts/sources/windows-sdk/: they define about twice what
# mingw-w64 does. mingw-w64's names stay first so a value both define keeps its name; a value
# only the SDK defines gets the SDK's. The SDK's facilities.tsv names every FACILITY_*.
SDK_EXTRACTS = SOURCES / "windows-sdk"
SDK_HEADERS = [
    "wuerror.h",
    "winerror.h",
    "deliveryoptimizationerrors.h",
    "mdmregistration.h",
    "bitsmsg.h",
    "vsserror.h",
    "lmerr.h",
    "winhttp.h",
    "wininet.h",
    "ntstatus.h",
]
SDK_SOURCE = "sdk:"  # prefix of the name source, e.g. "sdk:winerror.h"
# winhttp.h and wininet.h define hundreds of flags and options; only these are error codes.
ERROR_NAME_FILTER = {
    "winhttp.h": re.compile(r"^ERROR_WINHTTP_"),
    "wininet.h": re.compile(r"^ERROR_(INTERNET|FTP|GOPHER|HTTP)_"),
    "lmerr.h": re.compile(r"^NERR_"),
    "mdmregistration.h": re.compile(r"^(MENROLL|MREGISTER)_"),
    "deliveryoptimizationerrors.h": re.compile(r"^DO_E_"),
}
# Macros that are constants but not codes: facility numbers, ranges, bases, masks.
NOT_A_CODE = re.compile(
    r"^(_|FACILITY_|SEVERITY_|STATUS_SEVERITY_)|_(FIRST|LAST|INCLUDED)$|BASEERR$"
)
# ...and bases and masks written as plain numbers (DNS_ERROR_ZONE_BASE 9600). Typed ones such as
# WU_E_PT_SOAPCLIENT_BASE or STATUS_IMAGE_NOT_AT_BASE are real codes.
PLAIN_HELPER = re.compile(r"_(BASE|MASK|MIN|MAX)$")

DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)\s*(?://.*|/\*.*)?$")
NUMBER = r"(0[xX][0-9A-Fa-f]+|\d+)[uUlL]*"
FORMS = [
    re.compile(rf"^__MSABI_LONG\(\s*{NUMBER}\s*\)$"),
    re.compile(rf"^_HRESULT_TYPEDEF_\(\s*{NUMBER}\s*\)$"),
    re.compile(rf"^_NDIS_ERROR_TYPEDEF_\(\s*{NUMBER}\s*\)$"),
    re.compile(rf"^\(\s*\(\s*(?:NTSTATUS|HRESULT|DWORD|LONG)\s*\)\s*{NUMBER}\s*\)$"),
    re.compile(rf"^\(?\s*{NUMBER}\s*\)?$"),
]
BASE_PLUS = re.compile(rf"^\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\+\s*{NUMBER}\s*\)$")
ALIAS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)$")
FROM_WIN32 = re.compile(r"^HRESULT_FROM_WIN32\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$")
# MDMRegistration.h: MAKE_HRESULT(SEVERITY_ERROR, DEVICE_ENROLLER_FACILITY_CODE, 4)
MAKE_HRESULT = re.compile(r"^MAKE_HRESULT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)$")
SEVERITIES = {"SEVERITY_SUCCESS": 0, "SEVERITY_ERROR": 1}

# Facts from "Windows Update error codes by component" (learn.microsoft.com,
# windows/deployment/update/windows-update-error-reference): the section each range is in.
WU_COMPONENTS = {
    0x80240: "Windows Update Agent",
    0x00240: "Windows Update Agent (success)",
    0x80241: "Windows Installer minor errors",
    0x80242: "Update Handler",
    0x80243: "Windows Update UI",
    0x80244: "Protocol Talker",
    0x80245: "Redirector",
    0x80246: "Download Manager",
    0x80247: "Offline scan (reporter)",
    0x80248: "Data Store",
    0x80249: "Inventory",
    0x8024A: "Automatic Updates",
    0x8024C: "Driver Util",
    0x8024D: "Windows Update Agent update and setup",
    0x8024E: "Expression evaluator",
    0x8024F: "Reporter",
}
PAGE_BY_COMPONENT = "ms-wu-error-reference"
PAGE_COMMON = "ms-wu-common-errors"
PAGE_COM_ERRORS = "ms-win32-com-error-codes"
COM_ERRORS_LABEL = "Microsoft, COM Error Codes (CC BY 4.0)"
# Message extracts of those pages, in priority order, with the label stored as message_source
# (the knowledge page shows it beside the message).
MESSAGE_EXTRACTS = [
    (
        PAGE_BY_COMPONENT,
        SOURCES / "windows-update-error-reference.tsv",
        "Microsoft, Windows Update error codes by component (CC BY 4.0)",
    ),
    (
        PAGE_COMMON,
        SOURCES / "windows-update-common-errors.tsv",
        "Microsoft, Windows Update common errors and mitigation (CC BY 4.0)",
    ),
    # The COM error-code pages of the win32 docs: messages for the SDK codes [MS-ERREF] lacks
    # (FVE_E_*, DXGI, WinRT...); after the Windows Update pages, so those keep their texts.
    (PAGE_COM_ERRORS, SOURCES / "win32-com-error-codes.tsv", COM_ERRORS_LABEL),
]
OPTIONAL_EXTRACTS = {PAGE_COM_ERRORS}  # a test's CATALOG_SOURCES may leave it out
# Facts from "Windows Update common errors and mitigation" (learn.microsoft.com,
# troubleshoot/windows-client/deployment/common-windows-update-errors): the codes it lists, and
# the names it gives for codes that no header here defines.
COMMON_ERRORS_CODES = [
    0x8024402F, 0x80242006, 0x80070BC9, 0x80200053, 0x80072EFD, 0x80072EFE, 0x80D02002,
    0x8007000D, 0x8024A10A, 0x80240020, 0x80242014, 0x80246017, 0x8024000B, 0x8024000E,
    0x8024D009, 0x80244007, 0x80070422, 0x800F0821, 0x800F0825, 0x800F0920, 0x800F081F,
    0x800F0831, 0x80070005, 0x80070570, 0x80070003, 0x80070020, 0x80073701, 0x8007371B,
    0x80072F8F, 0x80072EE2, 0x80240022, 0x8024401B, 0x80244022, 0x80070490, 0x800F0922,
    0x800706BE,
]  # fmt: skip
COMMON_ERRORS_NAMES = {
    0x800F0922: "CBS_E_INSTALLERS_FAILED",
    0x800F0821: "CBS_E_ABORT",
    0x800F0825: "CBS_E_CANNOT_UNINSTALL",
    0x800F0920: "CBS_E_HANG_DETECTED",
    0x800F081F: "CBS_E_SOURCE_MISSING",
    0x800F0831: "CBS_E_STORE_CORRUPTION",
    0x8024A10A: "USO_E_SERVICE_SHUTTING_DOWN",
    0x80200053: "BG_E_VALIDATION_FAILED",
    0x80072EFE: "WININET_E_CONNECTION_ABORTED",
    0x80072F8F: "WININET_E_DECODING_FAILED",
    0x80072EE2: "WININET_E_TIMEOUT",
}


def ensure_impacket() -> None:
    """Re-run this script inside a throwaway venv that has impacket (never a project dep)."""
    try:
        import impacket.system_errors  # noqa: F401
    except ImportError:
        python = VENV / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", "impacket"], check=True
        )
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])  # noqa: S606


def parse_header(path: Path) -> list[tuple[str, int, bool]]:
    """(name, value, is_alias) for every error-code macro; aliases name another macro."""
    raw: dict[str, str] = {}
    order: list[str] = []
    for line in path.read_text(encoding="latin-1").splitlines():
        match = DEFINE.match(line)
        if match and match.group(1) not in raw:
            raw[match.group(1)] = match.group(2).strip()
            order.append(match.group(1))

    def evaluate(name: str, depth: int = 0) -> tuple[int | None, bool]:
        expr = raw.get(name)
        if expr is None or depth > 5:
            return None, False
        # The SDK writes ERROR_IMAGE_NOT_AT_BASE as 700L; a helper constant has no suffix.
        plain = FORMS[-1].match(expr) and not expr.rstrip(")").upper().endswith("L")
        if depth == 0 and PLAIN_HELPER.search(name) and plain:
            return None, False
        for form in FORMS:
            if m := form.match(expr):
                return int(m.group(1), 0), False
        if m := BASE_PLUS.match(expr):
            base, _ = evaluate(m.group(1), depth + 1)
            return (None if base is None else base + int(m.group(2), 0)), False
        if m := FROM_WIN32.match(expr):
            code, _ = evaluate(m.group(1), depth + 1)
            return (None if code is None else 0x80070000 | (code & 0xFFFF)), False
        if m := MAKE_HRESULT.match(expr):
            parts = [_number_or(evaluate, part, depth) for part in m.groups()]
            if None in parts:
                return None, False
            severity, facility, code = parts
            return (severity << 31) | ((facility & 0x1FFF) << 16) | (code & 0xFFFF), False
        if m := ALIAS.match(expr):
            value, _ = evaluate(m.group(1), depth + 1)
            return value, True
        return None, False

    keep = ERROR_NAME_FILTER.get(path.name.lower())
    found = []
    for name in order:
        if NOT_A_CODE.search(name) or (keep and not keep.match(name)):
            continue
        value, is_alias = evaluate(name)
        if value is None:
            continue
        found.append((name, value & 0xFFFFFFFF, is_alias))
    return found


def _number_or(evaluate, token: str, depth: int) -> int | None:
    """A MAKE_HRESULT argument: a number, a severity, or another macro of the header."""
    if token in SEVERITIES:
        return SEVERITIES[token]
    if re.fullmatch(NUMBER, token):
        return int(re.fullmatch(NUMBER, token).group(1), 0)
    return evaluate(token, depth + 1)[0]


def read_message_extract(path: Path) -> list[tuple[int, str, str]]:
    """(value, name, message) rows of a tab-separated extract; `#` lines are its provenance."""
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    body = [(n, line) for n, line in enumerate(lines, 1) if line and not line.startswith("#")]
    if not body or body[0][1].split("\t") != ["hex", "name", "message"]:
        raise ValueError(
            f"{path}: the first row after the comments must be hex<TAB>name<TAB>message"
        )
    for number, line in body[1:]:
        cells = line.split("\t")
        if len(cells) != 3 or not all(cell.strip() for cell in cells):
            raise ValueError(f"{path}:{number}: expected 3 non-empty tab-separated columns")
        try:
            value = int(cells[0], 16)
        except ValueError:
            raise ValueError(f"{path}:{number}: {cells[0]!r} is not a hex code") from None
        rows.append((value & 0xFFFFFFFF, cells[1].strip(), cells[2].strip()))
    return rows


def read_sdk_extract(path: Path) -> tuple[dict[str, str], list[tuple[str, int, bool]]]:
    """(provenance, [(name, value, is_alias)]) of one scripts/sources/windows-sdk/ extract."""
    meta: dict[str, str] = {}
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# ") and ":" in line and not line.startswith("#   "):
            key, _, text = line[2:].partition(":")
            meta.setdefault(key.strip(), text.strip())
            continue
        if not line or line.startswith("#") or line in ("hex\tname\talias", "number\tname"):
            continue
        cells = line.split("\t")
        if len(cells) == 2:  # facilities.tsv: number, name
            rows.append((cells[1], int(cells[0]), False))
            continue
        if len(cells) != 3 or cells[2] not in ("yes", "no"):
            raise ValueError(f"{path}:{number}: expected hex<TAB>name<TAB>yes|no")
        rows.append((cells[1], int(cells[0], 16) & 0xFFFFFFFF, cells[2] == "yes"))
    return meta, rows


def sdk_facilities() -> list[dict]:
    """Every FACILITY_* of the SDK's winerror.h: [{"n": number, "names": [...]}] by number."""
    path = SDK_EXTRACTS / "facilities.tsv"
    if not path.exists():
        return []
    by_number: dict[int, list[str]] = {}
    for name, number, _ in read_sdk_extract(path)[1]:
        if name != "FACILITY_NT_BIT":  # a flag, not a facility
            by_number.setdefault(number, []).append(name)
    return [{"n": n, "names": names} for n, names in sorted(by_number.items())]


def namespace(header: str, value: int) -> str:
    if header.removeprefix(SDK_SOURCE) == "ntstatus.h":
        return "ntstatus"
    return "win32" if value <= 0xFFFF else "hresult"


def build() -> dict:
    import impacket
    from impacket import hresult_errors, nt_errors, system_errors

    entries: dict[int, dict] = {}

    def add(value: int, name: str, source: str, ns: str, alias: bool = False) -> None:
        entry = entries.setdefault(value, {"v": value, "names": []})
        if not any(n["name"] == name for n in entry["names"]):
            entry["names"].append({"name": name, "source": source, "ns": ns, "alias": alias})

    for header in HEADERS:
        for name, value, alias in parse_header(INCLUDE / header):
            add(value, name, header, namespace(header, value), alias)

    sdk_meta: dict[str, str] = {}
    sdk_counts: dict[str, int] = {}
    for header in SDK_HEADERS:
        path = SDK_EXTRACTS / f"{header}.tsv"
        if not path.exists():  # a test's CATALOG_SOURCES may leave the SDK out
            continue
        sdk_meta, rows = read_sdk_extract(path)
        sdk_counts[header] = len(rows)
        for name, value, alias in rows:
            source = SDK_SOURCE + header
            add(value, name, source, namespace(source, value), alias)

    tables = [
        ("win32", system_errors.ERROR_MESSAGES),
        ("hresult", hresult_errors.ERROR_MESSAGES),
        ("ntstatus", nt_errors.ERROR_MESSAGES),
    ]
    messages_by_name: dict[str, str] = {}
    for _, table in tables:
        for name, message in table.values():
            messages_by_name.setdefault(name, message.strip())
    for ns, table in tables:
        for value, (name, _message) in table.items():
            add(value & 0xFFFFFFFF, name, "MS-ERREF", ns)

    for value, name in COMMON_ERRORS_NAMES.items():
        add(value, name, PAGE_COMMON, "hresult")

    # A page name that differs from the header's (or a code the headers lack, such as
    # 0x80245FFF, which mingw-w64 writes as 0x802450FF) is kept as another name.
    page_messages: dict[int, tuple[str, str]] = {}
    listed_on_page: dict[str, set[int]] = {}
    for page, path, label in MESSAGE_EXTRACTS:
        if page in OPTIONAL_EXTRACTS and not path.exists():
            continue
        for value, name, message in read_message_extract(path):
            add(value, name, page, namespace("", value))
            page_messages.setdefault(value, (message, label))
            listed_on_page.setdefault(page, set()).add(value)

    for value, entry in entries.items():
        names = entry.pop("names")
        names.sort(key=lambda n: _priority(n, value))
        entry["name"] = names[0]["name"]
        source = names[0]["source"]
        entry["header"] = source.removeprefix(SDK_SOURCE) if source.endswith(".h") else ""
        if names[0]["ns"] == "ntstatus":
            entry["_nt_named"] = True
        if source.startswith(SDK_SOURCE):
            entry["_sdk_named"] = True  # extra_families() lets a page's name lead over it
        entry["others"] = [n["name"] for n in names[1:]]
        entry["ns"] = sorted({n["ns"] for n in names})
        for n in names:
            if n["name"] in messages_by_name:
                entry["message"] = messages_by_name[n["name"]]
                entry["message_source"] = "MS-ERREF"
                break
        # The Microsoft pages only fill codes that [MS-ERREF] has no text for.
        if not entry.get("message") and value in page_messages:
            entry["message"], entry["message_source"] = page_messages[value]
        component = WU_COMPONENTS.get(value >> 12)
        if component and ((value >> 16) & 0x1FFF) == 36:
            entry["component"] = component
        listed = []
        if value in listed_on_page.get(PAGE_BY_COMPONENT, ()):
            listed.append(PAGE_BY_COMPONENT)
        if value in COMMON_ERRORS_CODES:
            listed.append(PAGE_COMMON)
        if listed:
            entry["listed_in"] = listed

    family_sources = extra_families(entries)
    for entry in entries.values():
        entry.pop("_sdk_named", None)
        entry.pop("_nt_named", None)
    codes = [entries[v] for v in sorted(entries)]
    info = attribution(impacket_version=getattr(impacket, "version", None))
    if sdk_counts:
        info["sources"].insert(1, sdk_attribution(sdk_meta, sdk_counts))
    if PAGE_COM_ERRORS in listed_on_page:
        info["sources"].append(com_errors_attribution(len(listed_on_page[PAGE_COM_ERRORS])))
    info["sources"] += family_sources
    return {
        "attribution": info,
        "facilities": sdk_facilities(),
        "counts": {
            "codes": len(codes),
            "named": sum(1 for c in codes if c["name"]),
            "with_message": sum(1 for c in codes if c.get("message")),
            "wu_e": sum(1 for c in codes for n in [c["name"], *c["others"]] if n[:5] == "WU_E_"),
            "wu_e_with_message": sum(
                1 for c in codes if c.get("message") and c["name"].startswith("WU_E_")
            ),
        },
        "codes": codes,
    }


# A family extract's column line; `title` (optional) is a short documented title, our wording,
# for a code Microsoft gives no symbolic name (Intune, Configuration Manager): what a table shows
# and the API's `name` falls back to (`name_kind` "title").
HEADER_LINES = ("hex\tname\tmessage", "hex\tname\tmessage\ttitle")


def extra_families(entries: dict[int, dict]) -> list[dict]:
    """Merge the families the SDK headers lack (scripts/sources/families/*.tsv: setup, MDM
    enrollment, device registration, Autopilot, Intune, Configuration Manager, Delivery
    Optimization, servicing) into the finished `entries`; return their attribution rows.
    A nameless row's `title` column becomes the entry's `title`.

    A header's name stays primary; a page's differing name becomes another name, and a page's
    message fills only a code no earlier source gave one. Rows may have no name (Intune and
    Configuration Manager publish none); such a code gets its message only.
    """
    sources = []
    for path in sorted((SOURCES / "families").glob("*.tsv")):
        meta: dict[str, str] = {}
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("# ") and ":" in line and not line.startswith("#   "):
                key, _, text = line[2:].partition(":")
                if key in ("id", "label", "repo", "path", "commit", "licence"):
                    meta[key] = text.strip()
                continue
            if not line or line.startswith("#") or line in HEADER_LINES:
                continue
            cells = line.split("\t")
            if len(cells) not in (3, 4) or not cells[0].strip() or not cells[2].strip():
                raise ValueError(f"{path}:{number}: expected hex<TAB>name<TAB>message[<TAB>title]")
            title = cells[3].strip() if len(cells) == 4 else ""
            if title and cells[1].strip():
                raise ValueError(f"{path}:{number}: a title is only for a code with no name")
            rows.append((int(cells[0], 16) & 0xFFFFFFFF, cells[1].strip(), cells[2].strip(), title))
        if not meta.get("id") or not meta.get("label"):
            raise ValueError(f"{path}: needs '# id:' and '# label:' lines")
        for value, name, message, title in rows:
            entry = entries.setdefault(
                value, {"v": value, "name": "", "header": "", "others": [], "ns": ["hresult"]}
            )
            # An NTSTATUS warning that shares the value (0x801C0001 STATUS_FLT_BUFFER_TOO_SMALL)
            # is not what a device that logged the HRESULT means: the page's name leads.
            nt_only = entry.pop("_nt_named", False) and bool(name)
            if nt_only:
                if name in entry["others"]:
                    entry["others"].remove(name)
                entry["others"].insert(0, entry["name"])
                entry["name"], entry["header"] = "", ""
                entry["ns"] = sorted({*entry["ns"], "hresult"})
            # A value only the full SDK names (mingw-w64 does not) keeps the family page's name
            # first, as before the SDK extracts: 0x80190001 is MDM registration's
            # MREGISTER_E_DEVICE_MESSAGE_FORMAT_ERROR before winerror.h's HTTP_E_STATUS_UNEXPECTED.
            elif name and entry.pop("_sdk_named", False) and name != entry["name"]:
                if name in entry["others"]:
                    entry["others"].remove(name)
                entry["others"].insert(0, entry["name"])
                entry["name"], entry["header"] = "", ""
            if name and not entry["name"]:
                entry["name"] = name
            elif name and name != entry["name"] and name not in entry["others"]:
                entry["others"].append(name)
            # A family page is more specific than the generic COM error-code pages.
            generic = entry.get("message_source") == COM_ERRORS_LABEL
            if nt_only or generic or not entry.get("message"):
                entry["message"], entry["message_source"] = message, meta["label"]
            if title and not entry["name"]:
                entry["title"] = title
            listed = entry.setdefault("listed_in", [])
            if meta["id"] not in listed:
                listed.append(meta["id"])
        sources.append(
            {
                "id": meta["id"],
                "what": f"names, values and one-line meanings (our wording) of {len(rows)} codes",
                "from": f"{meta['label']}: {meta.get('repo', '')}, {meta.get('path', '')}",
                "commit": meta.get("commit", ""),
                "extract": str(path.relative_to(REPO)),
                "licence": meta.get("licence", ""),
            }
        )
    return sources


def _priority(name: dict, value: int) -> tuple:
    """Small values read as Win32 errors; otherwise headers in HEADERS order beat MS-ERREF."""
    sdk = [SDK_SOURCE + header for header in SDK_HEADERS]
    sources = [*HEADERS, *sdk, "MS-ERREF", PAGE_BY_COMPONENT, PAGE_COMMON, PAGE_COM_ERRORS]
    ns_rank = {"win32": 0, "hresult": 1, "ntstatus": 2} if value <= 0xFFFF else {}
    return (
        ns_rank.get(name["ns"], 0),
        name["alias"],
        sources.index(name["source"]),
    )


def sdk_attribution(meta: dict[str, str], counts: dict[str, int]) -> dict:
    return {
        "id": "windows-sdk-headers",
        "what": "symbolic names and values of "
        + ", ".join(f"{header} ({n})" for header, n in counts.items())
        + "; facility names (FACILITY_* of winerror.h)",
        "from": "Windows SDK headers as carried by microsoft/win32metadata "
        "(generation/WinSDK/RecompiledIdlHeaders/), extracted by "
        "scripts/extract_sdk_headers.py",
        "commit": meta.get("commit", ""),
        "extract": str(SDK_EXTRACTS.relative_to(REPO)) if SDK_EXTRACTS.is_relative_to(REPO) else "",
        "licence": "facts only (names and numeric values); the headers are under the Windows "
        "SDK licence, not the repository's MIT licence, so no header comment or MessageText "
        "is copied",
    }


def com_errors_attribution(count: int) -> dict:
    path = SOURCES / "win32-com-error-codes.tsv"
    commit = re.search(r"commit ([0-9a-f]{40})", path.read_text(encoding="utf-8"))
    return {
        "id": PAGE_COM_ERRORS,
        "what": f"message texts of {count} COM error codes (quoted verbatim), used only where "
        "[MS-ERREF] and the Windows Update pages give none",
        "from": "Microsoft Learn, 'COM Error Codes' (MicrosoftDocs/win32, "
        "desktop-src/com/com-error-codes-1.md ... -10.md)",
        "commit": commit.group(1) if commit else "",
        "extract": "scripts/sources/win32-com-error-codes.tsv",
        "licence": "CC BY 4.0, (c) Microsoft; descriptions quoted verbatim, markup removed",
    }


def attribution(impacket_version: object) -> dict:
    version = getattr(impacket_version, "BANNER", None) or _impacket_version()
    return {
        "generated_by": "python3 scripts/build_catalog.py",
        "sources": [
            {
                "id": "mingw-w64-headers",
                "what": "symbolic names and values",
                "from": "Debian package mingw-w64-common, /usr/share/mingw-w64/include/ "
                + ", ".join(HEADERS),
                "licence": "public domain / ZPL 2.1 (mingw-w64 headers, see the package "
                "copyright file)",
            },
            {
                "id": "MS-ERREF",
                "what": "message texts",
                "from": f"[MS-ERREF] tables in the impacket package ({version}): "
                "impacket.system_errors, impacket.hresult_errors, impacket.nt_errors",
                "licence": "[MS-ERREF] Open Specifications: Microsoft grants a licence to "
                "use the documentation; impacket: Apache-style licence (modified)",
            },
            {
                "id": PAGE_BY_COMPONENT,
                "what": "which Windows Update codes are listed, the component of each range, "
                "and their one-line message texts (quoted verbatim)",
                "from": "Microsoft Learn, 'Windows Update error codes by component' "
                "(MicrosoftDocs/windows-itpro-docs, "
                "windows/deployment/update/windows-update-error-reference.md)",
                "commit": "19cb6c52a951d78b65acc836d5b9babf5e8d1620",
                "extract": "scripts/sources/windows-update-error-reference.tsv",
                "licence": "CC BY 4.0, (c) Microsoft; message texts quoted verbatim, "
                "no description prose copied",
            },
            {
                "id": PAGE_COMMON,
                "what": "which codes are listed; names for CBS_E_*, USO_E_*, "
                "BG_E_VALIDATION_FAILED; message texts of three codes the by-component page "
                "lacks (quoted verbatim)",
                "from": "Microsoft Learn, 'Windows Update common errors and mitigation' "
                "(MicrosoftDocs/SupportArticles-docs, "
                "support/windows-client/deployment/common-windows-update-errors.md; messages "
                "from its earlier copy in MicrosoftDocs/windows-itpro-docs, "
                "windows/deployment/update/windows-update-errors.md)",
                "commit": "03c5cb308d48731ed17a3a6c2597f31f78645c83",
                "extract": "scripts/sources/windows-update-common-errors.tsv",
                "licence": "CC BY 4.0, (c) Microsoft; message texts quoted verbatim, "
                "no mitigation text copied",
            },
        ],
    }


def _impacket_version() -> str:
    try:
        from importlib.metadata import version

        return f"impacket {version('impacket')}"
    except Exception:  # noqa: BLE001 - the version is informative only
        return "impacket"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args()
    ensure_impacket()
    catalog = build()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(catalog, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # mtime=0 keeps the gzip bytes identical between runs.
    with gzip.GzipFile(args.output, "wb", mtime=0) as out:
        out.write(payload.encode("utf-8"))
    print(f"wrote {args.output}: {json.dumps(catalog['counts'])}")


if __name__ == "__main__":
    main()
