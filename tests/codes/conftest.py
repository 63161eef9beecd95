import io

import pytest
from django.core.management import call_command

from codes.models import CodeFamily, ErrorCode


@pytest.fixture(scope="module")
def catalog(django_db_setup, django_db_blocker):
    """The real catalog and curated files, loaded once for the module."""
    with django_db_blocker.unblock():
        call_command("import_codes", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        ErrorCode.objects.all().delete()
        CodeFamily.objects.all().delete()
