"""Personal API tokens: hashed at rest, shown once, revocable, last use recorded."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.api_auth import authenticate, create_api_token, revoke, token_owner
from fleet.models import ApiToken

pytestmark = pytest.mark.django_db


def header(token: str) -> str:
    return f"Bearer {token}"


def test_only_the_hash_is_stored(operator):
    record, token = create_api_token(operator, "psa")
    stored = ApiToken.objects.get(pk=record.pk)
    assert token.startswith(f"{stored.prefix}_") and stored.prefix.startswith("ft_")
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=record.pk).values().get()
    assert token not in {str(value) for value in row.values()}


def test_the_token_names_its_owner_until_revoked(operator):
    record, token = create_api_token(operator)
    assert token_owner(header(token)).owner == operator
    revoke(record)
    assert token_owner(header(token)) is None
    assert ApiToken.objects.get(pk=record.pk).revoked_at is not None


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer ", "Token ft_x", "Bearer ft_" + "a" * 300])
def test_malformed_headers_name_nobody(operator, value):
    create_api_token(operator)
    assert token_owner(value) is None


def test_last_used_is_written_at_first_use_then_at_most_once_a_minute(operator):
    record, token = create_api_token(operator)
    assert record.last_used_at is None
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        token_owner(header(token))
    assert ApiToken.objects.get(pk=record.pk).last_used_at == start

    later = time_machine.travel(start + timedelta(seconds=50), tick=False)
    with later, CaptureQueriesContext(connection) as captured:
        token_owner(header(token))
    assert not any(q["sql"].startswith("UPDATE") for q in captured)
    assert ApiToken.objects.get(pk=record.pk).last_used_at == start

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        token_owner(header(token))
    assert ApiToken.objects.get(pk=record.pk).last_used_at == start + timedelta(minutes=2)


def test_a_request_with_a_bearer_header_is_its_tokens_owner_else_its_session(operator):
    _, token = create_api_token(operator)
    request = RequestFactory().get("/", headers={"Authorization": header(token)})
    request.user = None  # the header wins; the session is not consulted
    caller = authenticate(request)
    assert caller.user == operator and caller.by_token


def test_create_api_token_command_prints_the_token_once(operator):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "olivia", "--name", "psa-sync", stdout=out, stderr=err)
    token = out.getvalue().strip()
    record = ApiToken.objects.get()
    assert (record.owner, record.name) == (operator, "psa-sync")
    assert token_owner(header(token)) == record
    assert token not in err.getvalue() and record.prefix in err.getvalue()


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_api_token", "nobody")
