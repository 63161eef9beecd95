from fleet.reports.models import ReportDelivery, ReportSchedule


def test_schedules_are_made_in_admin_and_deliveries_are_read_only(admin_client, tenant):
    response = admin_client.post(
        "/admin/fleet/reportschedule/add/",
        {
            "tenant": tenant.pk,
            "frequency": "weekly",
            "recipients": "ceo@acme.test\nit@acme.test",
            "language": "fr",
            "enabled": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = ReportSchedule.objects.get()
    assert schedule.recipient_list == ["ceo@acme.test", "it@acme.test"]
    assert schedule.language == "fr"
    delivery = ReportDelivery.objects.create(
        schedule=schedule, period="2026-W47", recipients=schedule.recipients, last_error="boom"
    )
    assert admin_client.get("/admin/fleet/reportdelivery/").status_code == 200
    assert admin_client.get("/admin/fleet/reportdelivery/add/").status_code == 403
    page = admin_client.get(f"/admin/fleet/reportschedule/{schedule.pk}/change/")
    assert "2026-W47" in page.content.decode()
    assert delivery.state == "pending"


def test_a_bad_recipient_is_refused(admin_client, tenant):
    response = admin_client.post(
        "/admin/fleet/reportschedule/add/",
        {
            "tenant": tenant.pk,
            "frequency": "monthly",
            "recipients": "not an address",
            "language": "",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "is not an email address" in response.content.decode()
    assert not ReportSchedule.objects.exists()
