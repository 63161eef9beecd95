"""Must-show (issue 17): the API names and explains codes from Microsoft's public pages.

The kept set (fixtures/microsoft_codes.tsv) holds setup, MDM enrollment, Autopilot, Intune,
Configuration Manager, Delivery Optimization, BitLocker, Windows Installer and servicing codes,
each with the page it came from. A code counts when `/api/v1/codes/<code>` gives a non-empty
name and a non-empty message, title or description ("named and explained"); a code is
"explained" with a message, title or description alone. Intune and Configuration Manager publish
no symbolic names: there `name` is the short documented title (`name_kind` "title"). Both
figures are printed, and both are floors that may only rise (the full SDK headers and the COM
error-code pages raised them from 90.2% and 76.8%; the titles and three servicing and Autopilot
rows to 100%).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

KEPT = Path(__file__).parent / "fixtures" / "microsoft_codes.tsv"
FAMILIES = {"msi": "win32"}  # Windows Installer exit codes are Win32 errors by value


def kept_codes() -> list[tuple[str, str, str]]:
    lines = [line for line in KEPT.read_text().splitlines() if line and line[0] != "#"]
    assert lines[0].split("\t") == ["code", "family", "page"]
    return [tuple(line.split("\t")) for line in lines[1:]]


def explained(data: dict) -> bool:
    return bool(data["message"] or data["title"] or data["description"])


def test_kept_set_covers_every_family_named_by_the_issue():
    families = {family for _, family, _ in kept_codes()}
    assert families == {
        "setup", "mdm-enrollment", "device-registration", "intune", "configmgr",
        "delivery-optimization", "bitlocker", "msi", "cbs", "win32",
    }  # fmt: skip
    assert len(kept_codes()) >= 80
    assert all(page.startswith("MicrosoftDocs/") for _, _, page in kept_codes())


@pytest.mark.django_db
def test_api_explains_at_least_90_percent_and_names_most(logged_in, capsys):
    unexplained, unnamed = [], []
    for code, _, _ in kept_codes():
        response = logged_in.get(f"/api/v1/codes/{quote(code)}")
        assert response.status_code == 200, code
        data = response.json()
        if not explained(data):
            unexplained.append(code)
        elif not data["name"]:
            unnamed.append(code)
    total = len(kept_codes())
    explained_share = (total - len(unexplained)) / total
    named_share = (total - len(unexplained) - len(unnamed)) / total
    with capsys.disabled():
        print(
            f"\nexplained {explained_share:.1%} (missing {unexplained}); named and explained "
            f"{named_share:.1%} (no name: {unnamed})"
        )
    assert explained_share >= 0.98, unexplained
    assert named_share >= 0.96, unnamed


@pytest.mark.django_db
def test_each_code_lands_in_its_family(logged_in):
    for code, family, _ in kept_codes():
        data = logged_in.get(f"/api/v1/codes/{quote(code)}").json()
        assert data["family"] == FAMILIES.get(family, family), code
