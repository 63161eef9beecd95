"""The knowledge page and the code search in French: the translated curated files under
codes/knowledge/*/fr/, section by section, English where a translation is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from codes import knowledge
from codes.knowledge import (
    KnowledgeError,
    read_code_translations,
    read_curated_codes,
    read_families,
    read_family_translations,
    translated_code,
)
from codes.knowledge_page import knowledge_page
from codes.search import curated_text_matches, fold, search_codes

CANCELLED = "/codes/0x8024000B/"
FRENCH = {"description": "annulée, et non parce", "causes": "mis en veille", "steps": "au repos"}
ENGLISH = {
    "description": "ended because it was cancelled",
    "causes": "put to sleep",
    "steps": "once the device is idle",
}


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


@pytest.mark.django_db
def test_the_page_in_french_has_french_description_causes_and_steps(catalog, logged_in):
    response = logged_in.get(CANCELLED, HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert response["Content-Language"] == "fr"
    for anchor, words in FRENCH.items():
        assert words in section(html, anchor), anchor
        assert ENGLISH[anchor] not in html
    assert "Causes fréquentes" in html  # the interface around it too
    assert "L&#x27;opération a été annulée" in html  # the French title
    assert "Faut-il relancer tout de suite ?" in html  # the French FAQ


@pytest.mark.django_db
def test_the_same_page_in_english(catalog, logged_in):
    response = logged_in.get(CANCELLED, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en">' in html
    for anchor, words in ENGLISH.items():
        assert words in section(html, anchor), anchor
    assert "annulée" not in html
    assert "Common causes" in html


@pytest.mark.django_db
def test_a_code_without_french_file_reads_in_english_in_a_french_page(
    catalog, logged_in, monkeypatch
):
    # Every curated code has a French file today: take one away, as a new English page is
    # until it is translated.
    value = 0x80070005
    committed = knowledge.load_code_translations("fr")
    assert value in committed
    without = {code: t for code, t in committed.items() if code != value}
    monkeypatch.setattr(knowledge, "load_code_translations", lambda language: without)
    page = knowledge_page(value, language="fr")
    english = read_curated_codes()[value]
    assert page.description == english.description
    assert page.steps == english.steps
    monkeypatch.undo()
    assert knowledge_page(value, language="fr").description != english.description


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_translation_may_leave_sections_out_and_they_read_in_english(tmp_path):
    english = read_curated_codes()
    write(
        tmp_path / "0x8024000B.md",
        '---\ncode: "0x8024000B"\nname: WU_E_CALL_CANCELLED\n---\n'
        "## Description\n\nSeulement la description.\n",
    )
    found = read_code_translations("fr", tmp_path, english)
    assert found[0x8024000B].description == "Seulement la description."
    assert found[0x8024000B].causes == ""


def test_a_translation_must_name_the_same_code_family_and_severity(tmp_path):
    english = read_curated_codes()
    write(
        tmp_path / "0x8024000B.md",
        '---\ncode: "0x8024000B"\nseverity: error\n---\n## Description\n\nTexte.\n',
    )
    with pytest.raises(KnowledgeError, match="'severity' must be 'warning'"):
        read_code_translations("fr", tmp_path, english)
    write(tmp_path / "0x8024000B.md", '---\ncode: "0x80240FFF"\n---\n## Description\n\nT.\n')
    with pytest.raises(KnowledgeError, match="file name must be"):
        read_code_translations("fr", tmp_path, english)


def test_a_translation_of_a_code_without_english_file_is_refused(tmp_path):
    write(tmp_path / "0x12345678.md", '---\ncode: "0x12345678"\n---\n## Description\n\nT.\n')
    with pytest.raises(KnowledgeError, match="no English file"):
        read_code_translations("fr", tmp_path, read_curated_codes())


def test_a_family_translation_replaces_only_what_it_gives(tmp_path):
    english = read_families()
    write(
        tmp_path / "windows-update.md",
        "---\nslug: windows-update\n---\n## Where Windows logs it\n\nDans le journal.\n",
    )
    found = read_family_translations("fr", tmp_path, english)
    assert found["windows-update"].where_logged == "Dans le journal."
    assert found["windows-update"].summary == ""
    write(tmp_path / "nothing.md", "---\nslug: nothing\n---\n## Summary\n\nT.\n")
    with pytest.raises(KnowledgeError, match="English family file"):
        read_family_translations("fr", tmp_path, english)


def test_the_committed_french_files_all_parse_against_their_english_files():
    english = read_curated_codes()
    codes = read_code_translations("fr", english=english)
    assert 0x8024000B in codes
    read_family_translations("fr", english=read_families())
    # What a French reader gets: French where given, the rest of the file as it was.
    cancelled = translated_code(english[0x8024000B], "fr-be")
    assert "annulée" in cancelled.description
    assert cancelled.severity == "warning" and cancelled.name == "WU_E_CALL_CANCELLED"
    assert translated_code(english[0x8024000B], "en") is english[0x8024000B]


def test_fold_drops_accents_and_case():
    assert fold("ANNULÉE") == fold("annulee") == "annulee"
    assert fold("Paramètres") == "parametres"


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["annulée", "annulee", "ANNULÉE"])
def test_french_words_find_the_french_page(catalog, word):
    assert 0x8024000B in curated_text_matches([word], "fr")
    found = [row.value for row in search_codes(word, language="fr").codes]
    assert 0x8024000B in found
    assert search_codes(word, language="en").codes.filter(value=0x8024000B).count() == 0


@pytest.mark.django_db
def test_every_word_must_appear_in_the_french_text(catalog):
    assert 0x8024000B in curated_text_matches(["opération", "annulée"], "fr")
    assert 0x8024000B not in curated_text_matches(["annulée", "imprimante"], "fr")


@pytest.mark.django_db
def test_the_code_list_finds_a_french_word_for_a_french_reader(catalog, logged_in):
    response = logged_in.get("/codes/", {"q": "annulée"}, HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/codes/0x8024000B/"' in html
    assert "L&#x27;opération a été annulée" in html  # the French title in the list
    english = logged_in.get("/codes/", {"q": "annulée"}, HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/codes/0x8024000B/"' not in english.content.decode()


@pytest.mark.django_db
def test_a_french_family_text_shows_on_a_french_page(catalog, monkeypatch, tmp_path):
    import codes.knowledge

    write(
        tmp_path / "windows-update.md",
        "---\nslug: windows-update\n---\n## Where Windows logs it\n\n"
        "Dans le journal `WindowsUpdateClient/Operational`.\n",
    )
    found = read_family_translations("fr", tmp_path, read_families())
    monkeypatch.setattr(
        codes.knowledge,
        "load_family_translations",
        lambda language: found if language == "fr" else {},
    )
    french = knowledge_page(0x8024000B, language="fr")
    assert french.family.where_logged.startswith("Dans le journal")
    assert french.family.summary == read_families()["windows-update"].summary  # not translated
    english = knowledge_page(0x8024000B, language="en")
    assert not english.family.where_logged.startswith("Dans le journal")


@pytest.mark.django_db
def test_a_person_who_chose_french_finds_the_french_page(catalog, operator):
    from fleet.accounts.models import PersonSettings
    from tests.factories import client_for

    PersonSettings.objects.create(user=operator, language="fr")
    client = client_for(operator)
    html = client.get("/codes/", {"q": "annulee"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr">' in html
    assert 'href="/codes/0x8024000B/"' in html


@pytest.mark.django_db
def test_the_json_api_follows_the_language_too(catalog, logged_in):
    french = logged_in.get("/api/v1/codes/0x8024000B", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert "annulée" in french["description"]
    english = logged_in.get("/api/v1/codes/0x8024000B", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "cancelled" in english["description"]
