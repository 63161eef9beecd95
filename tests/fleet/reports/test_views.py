import pytest
from django.test import Client

from fleet.reports import views
from fleet.reports.pdf import PdfError
from tests.factories import UserFactory, client_for


def url(fleet, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/tenants/{fleet.tenant.slug}/report/?{query}"


def test_the_report_answers_an_operator_granted_the_tenant(fleet, logged_in):
    response = logged_in.get(url(fleet, period=fleet.period.key))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Corp" in page
    assert fleet.period.label in page
    assert "0x8024000B" in page and "Operation was cancelled" in page
    assert f"/tenants/acme/report/pdf/?period={fleet.period.key}" in page


def test_a_tenant_not_granted_is_not_found_and_looks_like_no_tenant(fleet):
    stranger = client_for(UserFactory(username="mallory"))
    assert stranger.get(url(fleet, period=fleet.period.key)).status_code == 404
    assert stranger.get("/tenants/no-such/report/").status_code == 404
    # Even a bad period: the tenant is checked first, so nothing tells the tenant exists.
    assert stranger.get(url(fleet, period="bad")).status_code == 404
    assert stranger.get(f"/tenants/{fleet.tenant.slug}/report/pdf/").status_code == 404


def test_logged_out_goes_to_the_login_page(fleet):
    response = Client().get(url(fleet))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_range_and_a_week_are_reports_too(fleet, logged_in):
    first, last = fleet.period.first.isoformat(), fleet.period.last.isoformat()
    assert logged_in.get(url(fleet, **{"from": first, "to": last})).status_code == 200
    assert logged_in.get(url(fleet, period="2026-W47")).status_code == 200
    assert logged_in.get(url(fleet)).status_code == 200  # the last full month


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "x" * 500}, "period"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "2026-11-31", "to": "2026-12-01"}, "from"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(fleet, logged_in, params, field):
    for path in ("report", "report/pdf"):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = logged_in.get(f"/tenants/acme/{path}/?{query}")
        assert response.status_code == 400
        assert response.content.decode().startswith(f"{field}: ")


def test_the_pdf_is_an_attachment_named_for_tenant_and_period(fleet, logged_in, monkeypatch):
    printed = []
    monkeypatch.setattr(views, "html_to_pdf", lambda html: printed.append(html) or b"%PDF-1.7")
    response = logged_in.get(f"/tenants/acme/report/pdf/?period={fleet.period.key}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == b"%PDF-1.7"
    expected = f'attachment; filename="report-acme-{fleet.period.key}.pdf"'
    assert response["Content-Disposition"] == expected
    # The PDF prints the same document the page shows, without the page's own links.
    [html] = printed
    assert "Operation was cancelled" in html and "Download PDF" not in html


def test_without_chromium_the_pdf_is_a_503_not_a_500(fleet, logged_in, monkeypatch):
    def broken(html):
        raise PdfError("no Chromium")

    monkeypatch.setattr(views, "html_to_pdf", broken)
    response = logged_in.get(f"/tenants/acme/report/pdf/?period={fleet.period.key}")
    assert response.status_code == 503


def test_the_tenant_page_links_to_its_report(fleet, logged_in):
    page = logged_in.get("/tenants/acme/").content.decode()
    assert 'action="/tenants/acme/report/"' in page
