"""Parsing the curated knowledge files strictly: every mistake names the file."""

import textwrap

import pytest

from codes.knowledge import (
    FAMILY_SLUGS,
    KnowledgeError,
    parse_code_file,
    parse_family_file,
    read_curated_codes,
    read_families,
)

CODE_FILE = textwrap.dedent(
    """\
    ---
    code: "0x8024000B"
    name: WU_E_CALL_CANCELLED
    title: Operation was cancelled
    family: windows-update
    severity: warning
    severity_reason: The call was cancelled; a retry usually works.
    sources:
      - "wuerror.h"
    faq:
      - q: "Is it safe to retry?"
        a: "Yes."
    ---
    ## Description

    A cancelled call.

    ## Common causes

    - A restart.

    ## Troubleshooting steps

    1. Retry.
    """
)

FAMILY_FILE = textwrap.dedent(
    """\
    ---
    slug: windows-update
    name: Windows Update agent
    default_severity: error
    ---
    ## Summary

    The agent.

    ## Where Windows logs it

    WindowsUpdate.log.

    ## Troubleshooting

    Retry.

    ## Decode snippet

    ```powershell
    certutil -error 0x8024000B
    ```
    """
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_code_file_fields_and_sections_are_read(tmp_path):
    code = parse_code_file(write(tmp_path, "0x8024000B.md", CODE_FILE))
    assert (code.value, code.name, code.family, code.severity) == (
        0x8024000B,
        "WU_E_CALL_CANCELLED",
        "windows-update",
        "warning",
    )
    assert code.title == "Operation was cancelled"
    assert code.description == "A cancelled call."
    assert code.causes == "- A restart."
    assert code.steps == "1. Retry."
    assert code.faq == [{"q": "Is it safe to retry?", "a": "Yes."}]
    assert code.sources == ["wuerror.h"]


def test_family_file_keeps_only_the_powershell_code_of_the_snippet(tmp_path):
    family = parse_family_file(write(tmp_path, "windows-update.md", FAMILY_FILE))
    assert (family.slug, family.default_severity) == ("windows-update", "error")
    assert family.where_logged == "WindowsUpdate.log."
    assert family.decode_snippet == "certutil -error 0x8024000B"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("family: windows-update", "family: printers"), "unknown family 'printers'"),
        (('code: "0x8024000B"', 'code: "0xZZ"'), "bad code"),
        (('code: "0x8024000B"', 'code: "0x80240022"'), "file name must be 0x80240022.md"),
        (("## Common causes", "## Causes"), "unknown section '## Causes'"),
        (("severity: warning", "severity: critical"), "'severity' is 'critical'"),
        (("title: Operation was cancelled\n", ""), "'title' is required"),
        (("sources:", "colour: blue\nsources:"), "unknown front matter key"),
        (('    a: "Yes."', '    answer: "Yes."'), "faq item 1"),
        (("---\n## Description", "## Description"), "front matter"),
    ],
)
def test_malformed_code_file_is_rejected_naming_the_file(tmp_path, change, message):
    path = write(tmp_path, "0x8024000B.md", CODE_FILE.replace(*change))
    with pytest.raises(KnowledgeError, match=message) as error:
        parse_code_file(path)
    assert str(path) in str(error.value)


def test_missing_section_is_named(tmp_path):
    text = CODE_FILE[: CODE_FILE.index("## Troubleshooting steps")]
    with pytest.raises(KnowledgeError, match="missing section '## Troubleshooting steps'"):
        parse_code_file(write(tmp_path, "0x8024000B.md", text))


def test_family_file_without_powershell_block_is_rejected(tmp_path):
    text = FAMILY_FILE.replace("```powershell", "```bash")
    with pytest.raises(KnowledgeError, match="powershell"):
        parse_family_file(write(tmp_path, "windows-update.md", text))


def test_family_file_with_unknown_slug_is_rejected(tmp_path):
    text = FAMILY_FILE.replace("slug: windows-update", "slug: printers")
    with pytest.raises(KnowledgeError, match="unknown family slug 'printers'"):
        parse_family_file(write(tmp_path, "printers.md", text))


def test_every_committed_family_file_parses_and_covers_every_slug():
    families = read_families()
    assert set(families) == set(FAMILY_SLUGS)
    assert all(f.decode_snippet and f.where_logged for f in families.values())


def test_every_committed_code_file_parses_including_the_must_show_codes():
    curated = read_curated_codes()
    assert {0x8024000B, 0x80070005, 0x800F0922, 0xC1900101} <= set(curated)
    assert all(code.description and code.causes and code.steps for code in curated.values())
