import pytest
from django.core.management import CommandError, call_command

from fleet.models import Device, Occurrence, Tenant


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
    call_command("seed_demo")
    first = (Tenant.objects.count(), Device.objects.count(), Occurrence.objects.count())
    codes = sorted(Occurrence.objects.values_list("code", flat=True).distinct())
    call_command("seed_demo")  # already loaded: adds nothing
    assert (Tenant.objects.count(), Device.objects.count(), Occurrence.objects.count()) == first
    call_command("seed_demo", "--reset")
    assert (Tenant.objects.count(), Device.objects.count(), Occurrence.objects.count()) == first
    assert sorted(Occurrence.objects.values_list("code", flat=True).distinct()) == codes
    assert first[0] == 4 and 200 <= first[1] <= 500 and first[2] >= 20_000
    assert 0x8024000B in codes


@pytest.mark.django_db
def test_demo_login_grants_every_tenant_and_prints_a_working_password(capsys):
    from django.contrib.auth import authenticate

    call_command("seed_demo")
    call_command("demo_login")
    password = capsys.readouterr().out.strip().splitlines()[-1]
    user = authenticate(username="operator", password=password)
    assert user is not None and not user.is_superuser
    assert user.granted_tenants.count() == Tenant.objects.count()
