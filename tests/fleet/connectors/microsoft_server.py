"""A stand-in for Microsoft's documented endpoints on loopback HTTPS (MSAL accepts only https
authorities; the certificate is made here and trusted through REQUESTS_CA_BUNDLE).

Under one server: `/login` is Entra ID (the authority's OpenID discovery document and the v2.0
token endpoint, client credentials checked, AADSTS errors as Entra words them), `/graph` is
Microsoft Graph (the update profiles, exportJobs create/poll, the ZIP at a pre-signed `url`),
`/la` is the Log Analytics query API (tables, columns, rows; `TimeGenerated > datetime(...)`
honoured). It can be told to throttle (429 with Retry-After), fail a report's jobs, expire the
next download links, refuse a secret. Every request is recorded."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import ssl
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fleet.receiver import Request, bind

# Loopback ports to listen on; FLEET_TEST_MICROSOFT_PORTS=LOW-HIGH moves them (parallel runs).
_LOW, _HIGH = os.environ.get("FLEET_TEST_MICROSOFT_PORTS", "7600-7699").split("-")
PORTS = range(int(_LOW), int(_HIGH) + 1)
ENTRA_TENANT = "2b3c4d5e-0000-4000-8000-00000000aaaa"
CLIENT_ID = "6f1e2d3c-0000-4000-8000-00000000bbbb"
CLIENT_SECRET = "s3cret~value"  # noqa: S105 - the stand-in's
WORKSPACE = "9a8b7c6d-0000-4000-8000-00000000cccc"

FEATURE_COLUMNS = [
    "PolicyId", "PolicyName", "FeatureUpdateVersion", "DeviceId", "AADDeviceId", "AlertId",
    "EventDateTimeUTC", "LastUpdatedAlertStatusDateTimeUTC", "AlertType", "AlertStatus",
    "AlertClassification", "WindowsUpdateVersion", "Build", "AlertMessage",
    "AlertMessageDescription", "AlertMessageData", "Win32ErrorCode", "RecommendedAction",
    "ExtendedRecommendedAction", "StartDateTimeUTC", "ResolvedDateTimeUTC", "DeviceName", "UPN",
]  # fmt: skip
QUALITY_COLUMNS = ["PolicyId", "DeviceName", "AlertMessage", "Win32ErrorCode", "UPN",
                   "ExpediteQUReleaseDate", "DeviceId"]  # fmt: skip
FEATURE_STATE_COLUMNS = [
    "PolicyId", "PolicyName", "FeatureUpdateVersion", "DeviceId", "AADDeviceId", "PartnerPolicyId",
    "EventDateTimeUTC", "LastSuccessfulDeviceUpdateStatus", "LastSuccessfulDeviceUpdateSubstatus",
    "LastSuccessfulDeviceUpdateStatusEventDateTimeUTC", "CurrentDeviceUpdateStatus",
    "CurrentDeviceUpdateSubstatus", "CurrentDeviceUpdateStatusEventDateTimeUTC",
    "LatestAlertMessage", "LatestAlertMessageDescription", "LatestAlertRecommendedAction",
    "LatestAlertExtendedRecommendedAction", "UpdateCategory", "WindowsUpdateVersion",
    "LastWUScanTimeUTC", "Build", "DeviceName", "OwnerType", "UPN", "AggregateState",
]  # fmt: skip
QUALITY_STATE_COLUMNS = [
    "PolicyId", "DeviceName", "UPN", "DeviceId", "AADDeviceId", "EventDateTimeUTC",
    "CurrentDeviceUpdateStatus", "CurrentDeviceUpdateSubstatus", "AggregateState",
    "LatestAlertMessage", "LastWUScanTimeUTC", "OwnerType",
]  # fmt: skip
COLUMNS = {
    "DeviceFailuresByFeatureUpdatePolicy": FEATURE_COLUMNS,
    "QualityUpdateDeviceErrorsByPolicy": QUALITY_COLUMNS,
    "FeatureUpdateDeviceState": FEATURE_STATE_COLUMNS,
    "QualityUpdateDeviceStatusByPolicy": QUALITY_STATE_COLUMNS,
}
# The columns an export with localizationType LocalizedValuesAsAdditionalColumn doubles with a
# `_loc` twin, per report.
LOCALIZED = {
    "DeviceFailuresByFeatureUpdatePolicy": {"AlertMessage"},
    "QualityUpdateDeviceErrorsByPolicy": {"AlertMessage"},
    "FeatureUpdateDeviceState": set(),
    "QualityUpdateDeviceStatusByPolicy": {
        "CurrentDeviceUpdateStatus", "CurrentDeviceUpdateSubstatus", "AggregateState",
        "LatestAlertMessage",
    },
}  # fmt: skip

FEATURE_PROFILES = [
    ("f1000000-0000-4000-8000-000000000001", "Windows 11 24H2 - pilot"),
    ("f2000000-0000-4000-8000-000000000002", "Windows 11 24H2 - broad"),
]
QUALITY_PROFILES = [("e1000000-0000-4000-8000-000000000001", "Expedite 2026-12")]


def _feature(policy: int, n: int, device: str, code: str, when: str) -> dict:
    policy_id, policy_name = FEATURE_PROFILES[policy]
    return {
        "PolicyId": policy_id, "PolicyName": policy_name,
        "FeatureUpdateVersion": "Windows 11, version 24H2", "DeviceId": f"d-{device}",
        "AADDeviceId": f"a-{device}", "AlertId": f"alert-{policy}-{n}",
        "EventDateTimeUTC": when, "LastUpdatedAlertStatusDateTimeUTC": when,
        "AlertType": "1", "AlertStatus": "1", "AlertClassification": "1",
        "WindowsUpdateVersion": "10.0.26100", "Build": "26100.2605", "AlertMessage": "3",
        "AlertMessageDescription": "Install failed", "AlertMessageData": "", "Win32ErrorCode": code,
        "RecommendedAction": "", "ExtendedRecommendedAction": "", "StartDateTimeUTC": when,
        "ResolvedDateTimeUTC": "", "DeviceName": device, "UPN": f"{device.lower()}@contoso.example",
    }  # fmt: skip


# What the tenant's reports hold: 3 feature update failures over two policies (one of them a
# negative decimal, an undocumented notation), 2 expedited quality update failures, and 3
# UCUpdateAlert rows. 8 occurrences in all.
FEATURE_ROWS = [
    _feature(0, 1, "CONTOSO-LT-0001", "0xC1900101", "2026-12-30 08:15:00"),
    _feature(0, 2, "CONTOSO-LT-0002", "-2145124329", "2026-12-30 09:20:00"),
    _feature(1, 3, "CONTOSO-LT-0003", "0x80070002", "2026-12-30 10:05:00"),
]
QUALITY_ROWS = [
    {"PolicyId": QUALITY_PROFILES[0][0], "DeviceName": "CONTOSO-LT-0004", "AlertMessage": "2",
     "AlertMessage_loc": "DownloadConnectionIssue", "Win32ErrorCode": "0x8024402C",
     "UPN": "u4@contoso.example", "ExpediteQUReleaseDate": "2026-12-29", "DeviceId": "d-4"},
    {"PolicyId": QUALITY_PROFILES[0][0], "DeviceName": "CONTOSO-LT-0005", "AlertMessage": "10",
     "AlertMessage_loc": "WUComponentMissing", "Win32ErrorCode": "0x80073712",
     "UPN": "u5@contoso.example", "ExpediteQUReleaseDate": "2026-12-29", "DeviceId": "d-5"},
]  # fmt: skip
UC_COLUMNS = [
    ("TimeGenerated", "datetime"), ("AlertClassification", "string"), ("AlertId", "string"),
    ("AlertStatus", "string"), ("AlertSubtype", "string"), ("AlertType", "string"),
    ("AzureADDeviceId", "string"), ("Description", "string"), ("DeviceName", "string"),
    ("ErrorCode", "string"), ("ErrorSymName", "string"), ("StartTime", "datetime"),
    ("TargetBuild", "string"), ("TargetVersion", "string"), ("UpdateCategory", "string"),
]  # fmt: skip
UC_ROWS = [
    ["2026-12-30T06:00:00Z", "Error", "uc-1", "Active", "Download", "ClientUpdateAlert",
     "aad-6", "Download failed", "CONTOSO-LT-0006", "0x80240438", "WU_E_PT_ENDPOINT_UNREACHABLE",
     "2026-12-30T05:58:00Z", "10.0.26100.2605", "Windows 11, version 24H2", "WindowsFeatureUpdate"],
    ["2026-12-30T07:00:00Z", "Error", "uc-2", "Active", "Install", "ClientUpdateAlert",
     "aad-7", "Install failed", "CONTOSO-LT-0007", "0x800f0922", "CBS_E_INSTALLERS_FAILED",
     "2026-12-30T06:55:00Z", "10.0.26100.2605", "Windows 11, version 24H2", "WindowsQualityUpdate"],
    ["2026-12-30T08:00:00Z", "Error", "uc-3", "Active", "Install", "ClientUpdateAlert",
     "aad-8", "Install failed", "CONTOSO-LT-0008", "2149842967", "",
     "2026-12-30T07:50:00Z", "10.0.26100.2605", "Windows 11, version 24H2", "WindowsFeatureUpdate"],
]  # fmt: skip


def _feature_state(policy: int, device: str, alert: str, description: str, when: str) -> dict:
    policy_id, policy_name = FEATURE_PROFILES[policy]
    failing = bool(alert)
    return {
        "PolicyId": policy_id, "PolicyName": policy_name,
        "FeatureUpdateVersion": "Windows 11, version 24H2", "DeviceId": f"d-{device}",
        "AADDeviceId": f"a-{device}", "PartnerPolicyId": "", "EventDateTimeUTC": when,
        "LastSuccessfulDeviceUpdateStatus": "", "LastSuccessfulDeviceUpdateSubstatus": "",
        "LastSuccessfulDeviceUpdateStatusEventDateTimeUTC": "",
        "CurrentDeviceUpdateStatus": "Installing" if failing else "Installed",
        "CurrentDeviceUpdateSubstatus": "InstallFailed" if failing else "UpdateInstalled",
        "CurrentDeviceUpdateStatusEventDateTimeUTC": when, "LatestAlertMessage": alert,
        "LatestAlertMessageDescription": description, "LatestAlertRecommendedAction": "",
        "LatestAlertExtendedRecommendedAction": "", "UpdateCategory": "Feature",
        "WindowsUpdateVersion": "10.0.22631", "LastWUScanTimeUTC": when, "Build": "22631.4602",
        "DeviceName": device, "OwnerType": "Corporate", "UPN": f"{device.lower()}@contoso.example",
        "AggregateState": "Error" if failing else "Success",
    }  # fmt: skip


# The state reports: every device of a profile, failing or not. One failing device per report
# (its code in the alert's text); the healthy ones import as states, never as occurrences.
FEATURE_STATE_ROWS = [
    _feature_state(0, "CONTOSO-LT-0001", "RollbackInitiated",
                   "Setup rolled back (0xC1900101).", "2026-12-30 08:15:00"),
    _feature_state(0, "CONTOSO-LT-0010", "", "", "2026-12-30 07:00:00"),
    _feature_state(1, "CONTOSO-LT-0011", "", "", "2026-12-30 07:30:00"),
]  # fmt: skip
QUALITY_STATE_ROWS = [
    {"PolicyId": QUALITY_PROFILES[0][0], "DeviceName": "CONTOSO-LT-0004",
     "UPN": "u4@contoso.example", "DeviceId": "d-4", "AADDeviceId": "a-4",
     "EventDateTimeUTC": "2026-12-30 11:00:00", "CurrentDeviceUpdateStatus": "3",
     "CurrentDeviceUpdateStatus_loc": "Error", "CurrentDeviceUpdateSubstatus": "31",
     "CurrentDeviceUpdateSubstatus_loc": "DownloadFailed", "AggregateState": "3",
     "AggregateState_loc": "Error", "LatestAlertMessage": "2",
     "LatestAlertMessage_loc": "DownloadConnectionIssue (2149859372)",
     "LastWUScanTimeUTC": "2026-12-30 11:30:00", "OwnerType": "Corporate"},
    {"PolicyId": QUALITY_PROFILES[0][0], "DeviceName": "CONTOSO-LT-0012",
     "UPN": "u12@contoso.example", "DeviceId": "d-12", "AADDeviceId": "a-12",
     "EventDateTimeUTC": "2026-12-30 10:00:00", "CurrentDeviceUpdateStatus": "4",
     "CurrentDeviceUpdateStatus_loc": "Installed", "CurrentDeviceUpdateSubstatus": "40",
     "CurrentDeviceUpdateSubstatus_loc": "UpdateInstalled", "AggregateState": "1",
     "AggregateState_loc": "Success", "LatestAlertMessage": "0", "LatestAlertMessage_loc": "",
     "LastWUScanTimeUTC": "2026-12-30 10:30:00", "OwnerType": "Corporate"},
]  # fmt: skip
CLIENT_COLUMNS = [
    ("TimeGenerated", "datetime"), ("AzureADDeviceId", "string"), ("ClientState", "string"),
    ("ClientSubstate", "string"), ("ClientSubstateTime", "datetime"), ("DeviceName", "string"),
    ("EventData", "string"), ("TargetBuild", "string"), ("TargetKBNumber", "string"),
    ("TargetVersion", "string"), ("UpdateCategory", "string"), ("UpdateClassification", "string"),
    ("UpdateDisplayName", "string"),
]  # fmt: skip
CLIENT_ROWS = [
    ["2026-12-30T02:00:00Z", "aad-7", "Failed", "InstallFailed", "2026-12-30T06:55:00Z",
     "CONTOSO-LT-0007", '{"ErrorCode":"0x800f0922"}', "10.0.26100.2605", "KB5048667", "24H2",
     "WindowsQualityUpdate", "Security", "2026-12 Cumulative Update (KB5048667)"],
    ["2026-12-30T02:00:00Z", "aad-13", "Installed", "UpdateInstalled", "2026-12-29T21:10:00Z",
     "CONTOSO-LT-0013", "", "10.0.26100.2605", "KB5048667", "24H2",
     "WindowsQualityUpdate", "Security", "2026-12 Cumulative Update (KB5048667)"],
]  # fmt: skip
# Occurrences the error reports store, and the state reports add (one failing device each).
STORED_ERRORS = len(FEATURE_ROWS) + len(QUALITY_ROWS) + len(UC_ROWS)
STORED = STORED_ERRORS + 3
# The rows above are dated the day before the in-process tests' clock (tests/clock.py); a
# server for a test on the real clock moves them to the day before that clock's today.
REFERENCE_DAY = dt.date(2026, 12, 30)


def _moved(value: object, day: dt.date) -> object:
    if isinstance(value, str):
        for back in (0, 1):
            value = value.replace(
                str(REFERENCE_DAY - dt.timedelta(days=back)), str(day - dt.timedelta(days=back))
            )
        return value
    if isinstance(value, dict):
        return {k: _moved(v, day) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, day) for v in value]
    return value


@dataclass
class MicrosoftServer:
    url: str = ""
    ca_file: str = ""
    requests: list[Request] = field(default_factory=list)
    secret: str = CLIENT_SECRET
    # The certificate uploaded to the app registration (PEM), when the app signs in with one.
    certificate: bytes | None = None
    assertions: list[dict] = field(default_factory=list)
    # Set to an AADSTS error to refuse every token request with it.
    refuse_tokens: tuple[int, str, str] | None = None
    # (status, Retry-After) answered to the next Graph and Log Analytics requests.
    throttle: list[tuple[int, str]] = field(default_factory=list)
    failing_reports: set[str] = field(default_factory=set)
    expire_downloads: int = 0
    polls_before_done: int = 1
    day: dt.date = REFERENCE_DAY
    feature_rows: list[dict] = field(default_factory=list)
    quality_rows: list[dict] = field(default_factory=list)
    feature_state_rows: list[dict] = field(default_factory=list)
    quality_state_rows: list[dict] = field(default_factory=list)
    uc_rows: list[list] = field(default_factory=list)
    client_rows: list[list] = field(default_factory=list)
    jobs: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.feature_rows = _moved(FEATURE_ROWS, self.day)
        self.quality_rows = _moved(QUALITY_ROWS, self.day)
        self.uc_rows = _moved(UC_ROWS, self.day)
        self.feature_state_rows = _moved(FEATURE_STATE_ROWS, self.day)
        self.quality_state_rows = _moved(QUALITY_STATE_ROWS, self.day)
        self.client_rows = _moved(CLIENT_ROWS, self.day)

    @property
    def login_url(self) -> str:
        return self.url + "/login"

    @property
    def graph_url(self) -> str:
        return self.url + "/graph"

    @property
    def la_url(self) -> str:
        return self.url + "/la"

    def paths(self, prefix: str = "") -> list[str]:
        return [
            f"{r.method} {unquote(urlsplit(r.path).path)}"
            for r in self.requests
            if urlsplit(r.path).path.startswith(prefix)
        ]


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _assertion_problem(server: MicrosoftServer, assertion: str, audience: str) -> str:
    """Why Entra ID would refuse this client assertion, or "" when it is good: signed by the
    key of the app's registered certificate, named by its thumbprint (`x5t`), for this token
    endpoint, issued by and about the app, not expired."""
    if server.certificate is None:
        return "AADSTS700027: No certificate is registered on the app."
    certificate = x509.load_pem_x509_certificate(server.certificate)
    thumbprint = certificate.fingerprint(hashes.SHA1())  # noqa: S303 - Entra's x5t
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(
            assertion,
            certificate.public_key(),
            algorithms=["RS256", "PS256"],
            audience=audience,
            issuer=CLIENT_ID,
            options={"require": ["exp", "aud", "iss", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        return f"AADSTS700027: Client assertion failed signature validation ({exc})."
    x5t = header.get("x5t", "")
    if base64.urlsafe_b64decode(x5t + "=" * (-len(x5t) % 4)) != thumbprint:
        return (
            "AADSTS700027: The certificate with identifier used to sign the client "
            "assertion is not registered on application."
        )
    if claims["sub"] != CLIENT_ID:
        return "AADSTS700023: Client assertion subject is not the client id."
    server.assertions.append({"header": header, "claims": claims})
    return ""


def _csv_zip(name: str, report: str, columns: list[str], rows: list[dict]) -> bytes:
    text = io.StringIO()
    header = []
    for column in columns:
        header.append(column)
        if column in LOCALIZED[report]:
            header.append(column + "_loc")
    writer = csv.DictWriter(text, header, quoting=csv.QUOTE_ALL, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
    return data.getvalue()


def _handler(server: MicrosoftServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            self._json(status, {"error": {"code": code, "message": message}})

        def _json(self, status: int, body: object, headers: dict | None = None) -> None:
            self._send(status, json.dumps(body).encode(), "application/json", headers)

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = unquote(urlsplit(self.path).path)
            with server.lock:
                server.requests.append(Request(self.command, self.path, dict(self.headers), raw, 0))
                if path.startswith(("/graph", "/la")) and server.throttle:
                    status, after = server.throttle.pop(0)
                    body = {"error": {"code": "TooManyRequests", "message": "Throttled"}}
                    return self._json(status, body, {"Retry-After": after})
            if path.startswith("/login/"):
                return self._login(path, raw)
            if path.startswith("/blob/"):
                return self._blob(path)
            if path.startswith(("/graph/", "/la/")):
                scope = "graph" if path.startswith("/graph/") else "la"
                auth = self.headers.get("Authorization", "")
                if server.tokens.get(auth.removeprefix("Bearer ")) != scope:
                    return self._json(
                        401,
                        {
                            "error": {
                                "code": "InvalidAuthenticationToken",
                                "message": "Access token is empty or invalid.",
                            }
                        },
                    )
                return self._graph(path, raw) if scope == "graph" else self._la(path, raw)
            return self._error(404, "NotFound", path)

        do_GET = do_POST = _handle  # noqa: N815 - http.server's naming

        def _login(self, path: str, raw: bytes) -> None:
            match = re.fullmatch(
                r"/login/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)", path
            )
            if not match:
                return self._json(404, {"error": "not_found"})
            tenant, what = match.groups()
            if tenant != ENTRA_TENANT:
                return self._json(
                    400,
                    {
                        "error": "invalid_tenant",
                        "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                    },
                )
            base = f"{server.login_url}/{tenant}"
            if what.startswith("v2.0"):
                return self._json(
                    200,
                    {
                        "issuer": f"{base}/v2.0",
                        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                        "token_endpoint": f"{base}/oauth2/v2.0/token",
                        "jwks_uri": f"{base}/discovery/v2.0/keys",
                    },
                )
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if server.refuse_tokens:
                status, error, description = server.refuse_tokens
                return self._json(status, {"error": error, "error_description": description})
            if form.get("grant_type") != "client_credentials":
                return self._json(
                    400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}
                )
            if form.get("client_id") != CLIENT_ID:
                return self._json(
                    400,
                    {
                        "error": "unauthorized_client",
                        "error_description": "AADSTS700016: Application with identifier "
                        f"'{form.get('client_id')}' "
                        "was not found in the directory.",
                    },
                )
            if form.get("client_assertion_type") == JWT_BEARER:
                problem = _assertion_problem(
                    server, form.get("client_assertion", ""), f"{base}/oauth2/v2.0/token"
                )
                if problem:
                    return self._json(
                        401, {"error": "invalid_client", "error_description": problem}
                    )
            elif form.get("client_secret") != server.secret:
                return self._json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided. "
                        "Ensure the secret being sent "
                        "in the request is the client secret value, not the client secret ID.",
                    },
                )
            scope = form.get("scope", "")
            kind = {f"{server.graph_url}/.default": "graph", f"{server.la_url}/.default": "la"}
            if not any(s in kind for s in scope.split()):
                return self._json(
                    400, {"error": "invalid_scope", "error_description": "AADSTS1002012"}
                )
            token = f"tok-{next(server.ids)}"
            server.tokens[token] = next(kind[s] for s in scope.split() if s in kind)
            return self._json(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": token,
                },
            )

        def _graph(self, path: str, raw: bytes) -> None:
            base = "/graph/beta/deviceManagement/"
            route = path.removeprefix(base)
            profiles = {
                "windowsFeatureUpdateProfiles": FEATURE_PROFILES,
                "windowsQualityUpdateProfiles": QUALITY_PROFILES,
                "windowsDriverUpdateProfiles": [],
            }
            if self.command == "GET" and route in profiles:
                return self._json(
                    200, {"value": [{"id": i, "displayName": n} for i, n in profiles[route]]}
                )
            if self.command == "POST" and route == "reports/exportJobs":
                return self._create_job(json.loads(raw))
            match = re.fullmatch(r"reports/exportJobs\('([^']+)'\)", route)
            if self.command == "GET" and match and match.group(1) in server.jobs:
                return self._poll(server.jobs[match.group(1)])
            return self._error(404, "ResourceNotFound", route)

        def _create_job(self, body: dict) -> None:
            columns = COLUMNS.get(body.get("reportName"))
            if columns is None:
                return self._error(400, "BadRequest", "unknown reportName")
            select = body.get("select") or []
            if not select or set(select) - set(columns):
                return self._error(400, "BadRequest", "invalid select")
            match = re.fullmatch(r"\(PolicyId eq '([^']+)'\)", body.get("filter") or "")
            if not match or body.get("format") != "csv":
                return self._error(400, "BadRequest", "PolicyId filter and csv format required")
            job_id = f"{body['reportName']}_{next(server.ids):08d}"
            server.jobs[job_id] = {
                "id": job_id,
                "reportName": body["reportName"],
                "filter": body["filter"],
                "select": select,
                "format": "csv",
                "status": "notStarted",
                "url": None,
                "polls": 0,
                "policy": match.group(1),
            }
            return self._json(201, self._public(server.jobs[job_id]))

        @staticmethod
        def _public(job: dict) -> dict:
            return {k: v for k, v in job.items() if k not in ("polls", "policy")}

        def _poll(self, job: dict) -> None:
            job["polls"] += 1
            if job["polls"] < server.polls_before_done:
                job["status"] = "inProgress"
            elif job["reportName"] in server.failing_reports:
                job["status"] = "failed"
            else:
                job["status"] = "completed"
                job["url"] = (
                    f"{server.url}/blob/{job['id']}.zip?sig=abc&se=2026-12-31T23%3A59%3A00Z&sp=r"
                )
            return self._json(200, self._public(job))

        def _blob(self, path: str) -> None:
            job = server.jobs.get(path.removeprefix("/blob/").removesuffix(".zip"))
            if job is None or job["status"] != "completed":
                return self._send(
                    404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml"
                )
            if server.expire_downloads:
                server.expire_downloads -= 1
                return self._send(
                    403,
                    b"<Error><Code>AuthenticationFailed</Code>"
                    b"<Message>Signed expiry time has passed</Message></Error>",
                    "application/xml",
                )
            served = {
                "DeviceFailuresByFeatureUpdatePolicy": server.feature_rows,
                "QualityUpdateDeviceErrorsByPolicy": server.quality_rows,
                "FeatureUpdateDeviceState": server.feature_state_rows,
                "QualityUpdateDeviceStatusByPolicy": server.quality_state_rows,
            }[job["reportName"]]
            rows = [r for r in served if r["PolicyId"] == job["policy"]]
            body = _csv_zip(job["id"], job["reportName"], job["select"], rows)
            self._send(200, body, "application/zip")

        def _la(self, path: str, raw: bytes) -> None:
            match = re.fullmatch(r"/la/v1/workspaces/([^/]+)/query", path)
            if self.command != "POST" or not match:
                return self._error(404, "PathNotFoundError", path)
            if match.group(1) != WORKSPACE:
                return self._error(
                    404, "WorkspaceNotFoundError", "The workspace could not be found"
                )
            query = json.loads(raw).get("query", "")
            table = query.split(" ", 1)[0]
            if table == "UCUpdateAlert":
                rows, schema = server.uc_rows, UC_COLUMNS
            elif table == "UCClientUpdateStatus":
                rows, schema = server.client_rows, CLIENT_COLUMNS
            else:
                return self._error(400, "BadArgumentError", "unknown table")
            project = re.search(r"\| project ([^|]+)", query)
            names = [n for n, _t in schema]
            if project and [c.strip() for c in project.group(1).split(",")] != names:
                return self._error(400, "BadArgumentError", "unexpected projection")
            if "take 0" in query:
                rows = []
            since = re.search(r"TimeGenerated > datetime\(([^)]+)\)", query)
            if since:
                cut = dt.datetime.fromisoformat(since.group(1).replace("Z", "+00:00"))
                rows = [
                    r for r in rows if dt.datetime.fromisoformat(r[0].replace("Z", "+00:00")) > cut
                ]
            columns = [{"name": n, "type": t} for n, t in schema]
            return self._json(
                200, {"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]}
            )

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Wide validity: the tests' clock (tests/clock.py) is not the certificate checker's,
        # but a wide window keeps either side of it fine.
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextmanager
def serving(directory: Path, day: dt.date = REFERENCE_DAY) -> Iterator[MicrosoftServer]:
    """The stand-in on a free loopback port until the block ends; its certificate in
    `directory` (`server.ca_file`)."""
    server = MicrosoftServer(day=day)
    cert_file, key_file = _certificate(directory)
    httpd = bind(_handler(server), PORTS)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.url = f"https://127.0.0.1:{httpd.server_address[1]}"
    server.ca_file = str(cert_file)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def microsoft(tmp_path, settings, monkeypatch) -> Iterator[MicrosoftServer]:
    """The stand-in, with MS_LOGIN_URL, MS_GRAPH_URL and LOG_ANALYTICS_URL pointing at it."""
    with serving(tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
        settings.MS_LOGIN_URL = server.login_url
        settings.MS_GRAPH_URL = server.graph_url
        settings.LOG_ANALYTICS_URL = server.la_url
        yield server
