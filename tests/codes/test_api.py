"""`/api/v1/codes/<code>`: the decode plus the curated knowledge, for any notation."""

from __future__ import annotations

import pytest

from codes.decode import decode


@pytest.mark.parametrize(
    "notation", ["0x8024000B", "0x8024000b", "8024000B", "-2145124341", "2149842955"]
)
def test_any_notation_answers_with_the_canonical_fields(logged_in, notation):
    response = logged_in.get(f"/api/v1/codes/{notation}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["hex"] == "0x8024000B"
    assert data["name"] == "WU_E_CALL_CANCELLED"
    assert (data["signed"], data["unsigned"]) == (-2145124341, 2149842955)
    assert (data["facility"], data["facility_name"]) == (36, "Windows Update")
    assert data["severity"] == "warning"
    assert data["hresult_severity"] == "failure"
    assert data["family"] == "windows-update"


def test_same_keys_as_the_decode_command_plus_curated_fields(logged_in):
    data = logged_in.get("/api/v1/codes/0x8024000B").json()
    command_keys = set(decode("0x8024000B").as_dict())
    assert command_keys <= set(data)
    assert set(data) - command_keys == {
        "url",
        "description",
        "causes",
        "steps",
        "faq",
        "where_logged",
        "family_summary",
        "family_troubleshooting",
        "decode_snippet",
    }
    assert data["url"] == "/codes/0x8024000B/"
    assert "cancelled" in data["description"]
    assert data["faq"][0]["q"] == "Is 0x8024000B a failed update?"
    assert "Get-WindowsUpdateLog" in data["where_logged"]
    assert "$code = '0x8024000B'" in data["decode_snippet"]


def test_win32_part_of_a_wrapped_code(logged_in):
    data = logged_in.get("/api/v1/codes/0x80070002").json()
    assert data["name"] == "ERROR_FILE_NOT_FOUND"
    assert data["win32"]["code"] == 2 and data["win32"]["name"] == "ERROR_FILE_NOT_FOUND"


def test_extended_setup_code_is_kept(logged_in):
    data = logged_in.get("/api/v1/codes/0xC1900101_30018").json()
    assert data["hex"] == "0xC1900101" and data["extension"] == "30018"
    assert data["family"] == "setup"


def test_uncatalogued_code_still_answers(logged_in):
    data = logged_in.get("/api/v1/codes/0x8024EEEE").json()
    assert data["hex"] == "0x8024EEEE"
    assert data["in_catalog"] is False and data["family"] == "windows-update"
    assert data["description"] == "" and data["faq"] == []


@pytest.mark.parametrize("garbage", ["zzz", "0x", "99999999999", "0x8024000B0"])
def test_malformed_code_is_a_404_with_an_error_message(logged_in, garbage):
    response = logged_in.get(f"/api/v1/codes/{garbage}")
    assert response.status_code == 404
    assert response.json()["error"].startswith("Not an error code:")


def test_login_is_required(db, client):
    response = client.get("/api/v1/codes/0x8024000B")
    assert response.status_code == 401
    assert "log in" in response.json()["error"]


def test_only_get(logged_in):
    assert logged_in.post("/api/v1/codes/0x8024000B").status_code == 405


def test_query_count_is_fixed(logged_in, django_assert_max_num_queries):
    # Session, user, decode with admin edits, curated row, family row.
    with django_assert_max_num_queries(5):
        assert logged_in.get("/api/v1/codes/0x8024000B").status_code == 200


def test_the_openapi_declaration_lists_exactly_the_keys_served(logged_in):
    from codes.schema import CodeAnswer
    from fleet.api_schema import required_fields

    document = logged_in.get("/api/v1/openapi.json").json()
    declared = document["components"]["schemas"]["CodeAnswer"]
    served = set(logged_in.get("/api/v1/codes/0x80070002").json())
    assert set(declared["properties"]) == served == required_fields(CodeAnswer)
    operation = document["paths"]["/api/v1/codes/{code}"]["get"]
    assert set(operation["responses"]) == {"200", "401", "404"}
