import pytest

from fleet.alerts.admin import AlertRuleForm
from fleet.alerts.models import AlertRule

BASE = {
    "name": "Storms",
    "trigger": "threshold",
    "min_occurrences": "11",
    "window_hours": "24",
    "recipients": "noc@example.test; lead@example.test",
    "cooldown_minutes": "60",
    "enabled": "on",
}


@pytest.mark.parametrize("text", ["0x8024000B", "-2145124341", "8024000B"])
def test_admin_accepts_a_code_in_any_notation(db, text):
    form = AlertRuleForm(data=BASE | {"code": text})
    assert form.is_valid(), form.errors
    rule = form.save()
    assert rule.code == 0x8024000B
    assert rule.recipient_list == ["noc@example.test", "lead@example.test"]


def test_admin_names_the_bad_field(db):
    form = AlertRuleForm(data=BASE | {"code": "0xNOPE", "recipients": "noc@, ok@example.test"})
    assert not form.is_valid()
    assert set(form.errors) == {"code", "recipients"}
    assert "'noc@' is not an email address." in form.errors["recipients"]
    assert not AlertRule.objects.exists()
