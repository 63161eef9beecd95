"""The French catalog is complete: every string the sources mark for translation has a
French msgstr that is neither empty nor fuzzy, and the committed .mo is what the .po compiles
to. A new `{% translate %}` or `gettext()` without its French fails here (docs/i18n.md)."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fleet", "codes", "dashboards")
CATALOG = ROOT / "locale" / "fr" / "LC_MESSAGES"
# The files makemessages reads for the "django" domain.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
DJANGO_ADMIN = Path(sys.executable).with_name("django-admin")

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext not installed")


def copy_sources(target: Path) -> Path:
    """The sources and the committed catalog, copied so makemessages can rewrite the copy."""
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                copy = target / path.relative_to(ROOT)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
    shutil.copytree(ROOT / "locale", target / "locale")
    return target


def refresh_catalog(tree: Path) -> Path:
    """Run makemessages over the copy, as `make messages` does over the tree, and return the
    refreshed .po: new msgids appear in it with an empty msgstr."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [str(DJANGO_ADMIN), "makemessages", "-l", "fr", "--no-obsolete", "--add-location=file"],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return tree / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def untranslated(po: Path) -> list[str]:
    """The msgids of entries with an empty or fuzzy French, from gettext's own msgattrib."""
    offenders = []
    for option in ("--untranslated", "--only-fuzzy"):
        listed = subprocess.run(
            ["msgattrib", option, "--no-obsolete", "--no-wrap", str(po)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        offenders += [msgid for msgid in msgids(listed) if msgid]
    return offenders


def msgids(po_text: str) -> list[str]:
    """Each entry's msgid, its continuation lines joined (a msgid with a newline in it is
    written as `msgid ""` and one quoted line per part)."""
    found, current = [], None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = [line.removeprefix("msgid ")]
            found.append(current)
        elif line.startswith('"') and current is not None:
            current.append(line)
        else:
            current = None
    return ["".join(part[1:-1] for part in parts) for parts in found]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return copy_sources(tmp_path_factory.mktemp("sources"))


def test_every_french_message_is_translated(tree):
    assert untranslated(refresh_catalog(tree)) == []


def test_a_new_string_without_french_is_caught(tmp_path):
    sample = copy_sources(tmp_path)
    template = sample / "codes" / "templates" / "codes" / "_new_sample.html"
    template.write_text('{% load i18n %}{% translate "A sentence nobody has translated" %}')
    python = sample / "dashboards" / "new_sample.py"
    python.write_text(
        "from django.utils.translation import gettext\n"
        'gettext("Fresh label")\n'
        'gettext("Two lines\\nof text")\n'
    )
    assert sorted(untranslated(refresh_catalog(sample))) == [
        "A sentence nobody has translated",
        "Fresh label",
        "Two lines\\nof text",
    ]


def test_a_fuzzy_translation_is_caught(tmp_path):
    po = tmp_path / "django.po"
    text = (CATALOG / "django.po").read_text(encoding="utf-8")
    po.write_text(
        text.replace('\nmsgid "Overview"\n', '\n#, fuzzy\nmsgid "Overview"\n', 1), "utf-8"
    )
    assert untranslated(po) == ["Overview"]


def test_the_catalog_passes_msgfmt_checks():
    """Placeholders (%(name)s) the same in English and French, plural forms declared."""
    subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(CATALOG / "django.po")],
        check=True,
        capture_output=True,
    )


def compiled(po: Path, mo: Path) -> dict:
    subprocess.run(["msgfmt", "-o", str(mo), str(po)], check=True, capture_output=True)
    return catalog_of(mo)


def catalog_of(mo: Path) -> dict:
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    """Compared as catalogs, not bytes: another msgfmt version may lay the file out
    differently. Run `make messages` (or compilemessages) after editing the .po."""
    fresh = compiled(CATALOG / "django.po", tmp_path / "django.mo")
    committed = catalog_of(CATALOG / "django.mo")
    assert set(fresh) - set(committed) == set(), "in the .po, not in the committed .mo"
    assert set(committed) - set(fresh) == set(), "in the committed .mo, not in the .po"
    assert [key for key in fresh if fresh[key] != committed[key]] == []


def test_the_catalog_is_the_one_django_loads():
    with translation.override("fr"):
        assert translation.gettext("Overview") == "Vue d'ensemble"
        assert translation.pgettext("severity", "Warning") == "Avertissement"
    with translation.override("en"):
        assert translation.gettext("Overview") == "Overview"
