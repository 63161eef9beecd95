import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from fleet.models import Device, Occurrence, Tenant
from tests.factories import TenantFactory


@pytest.mark.django_db
def test_create_tenant_creates_one_and_refuses_a_second_with_the_same_slug(capsys):
    call_command("create_tenant", "contoso", "Contoso Ltd")
    assert Tenant.objects.get(slug="contoso").name == "Contoso Ltd"
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "contoso", "Other")
    with pytest.raises(CommandError, match="not a valid slug"):
        call_command("create_tenant", "Not A Slug", "X")


@pytest.mark.django_db
def test_seed_demo_is_deterministic_and_loads_once(capsys):
    def fleet() -> tuple:
        per_code = Occurrence.objects.values_list("code").annotate(n=Count("id")).order_by("code")
        return (Tenant.objects.count(), Device.objects.count(), list(per_code))

    call_command("seed_demo")
    first = fleet()
    call_command("seed_demo")  # already loaded: adds nothing
    assert fleet() == first
    call_command("seed_demo", "--reset")  # same seed: the same fleet again
    assert fleet() == first

    tenants, devices, per_code = first
    assert tenants == 4 and 200 <= devices <= 500
    assert sum(n for _, n in per_code) >= 20_000
    storms = dict(per_code)[0x8024000B]
    assert storms > dict(per_code)[0x80070005]  # the storms make it stand out


@pytest.mark.django_db
def test_demo_login_grants_every_tenant_and_prints_a_working_password(capsys):
    from django.contrib.auth import authenticate

    TenantFactory(slug="a")
    TenantFactory(slug="b")
    call_command("demo_login")
    password = capsys.readouterr().out.strip().splitlines()[-1]
    user = authenticate(username="operator", password=password)
    assert user is not None and not user.is_superuser
    assert user.granted_tenants.count() == Tenant.objects.count()
