"""The decoder on arbitrary input: a result or a `CodeError` with a message, nothing else.

Bounded example counts keep the suite quick; hypothesis remembers failures between runs.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codes.decode import decode
from codes.parse import CodeError, ParsedCode, parse_code
from tests.factories import client_for

# Text made of what codes are written with, so most examples get past the first regex.
CODE_ALPHABET = "0123456789abcdefABCDEFxX_-+ ()WU_E\t\u00a0\u0661\uff11"
code_like = st.text(alphabet=CODE_ALPHABET, max_size=30)
anything_text = st.text(max_size=120)  # every Unicode category, surrogates included
FAST = settings(max_examples=300, deadline=None)


def _assert_parsed_or_refused(value: object) -> ParsedCode | None:
    try:
        parsed = parse_code(value)
    except CodeError as exc:
        assert str(exc), "a CodeError must say what was wrong"
        return None
    assert isinstance(parsed, ParsedCode)
    assert 0 <= parsed.value <= 0xFFFFFFFF
    assert len(parsed.extension) <= 8
    return parsed


@FAST
@given(st.one_of(anything_text, code_like))
@example("0x")
@example("0x" + "F" * 9)
@example("9" * 11)
@example("-" * 3)
@example("0x8024000B (" + "A" * 70 + ")")
@example("\x00")
@example("\ud800")
@example("0x8024000B\n<script>")
def test_parse_code_returns_a_32_bit_value_or_a_code_error(text):
    parsed = _assert_parsed_or_refused(text)
    if parsed is not None:
        # The canonical spelling reads back as the same code.
        assert parse_code(parsed.hex).value == parsed.value


@FAST
@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=True),
        st.none(),
        st.booleans(),
        st.binary(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_parse_code_refuses_other_types_with_a_code_error(value):
    parsed = _assert_parsed_or_refused(value)
    if parsed is not None:
        # Only ints in the 32-bit range (signed or unsigned) and their text forms are codes.
        assert isinstance(value, int | float | bytes) and not isinstance(value, bool)


@settings(max_examples=150, deadline=None)
@given(st.one_of(anything_text, code_like, st.integers()))
def test_decode_explains_or_raises_a_code_error(text):
    try:
        decoded = decode(text)
    except CodeError as exc:
        assert str(exc)
        return
    assert decoded.hex.startswith("0x") and len(decoded.hex) == 10
    assert decoded.as_dict()["hex"] == decoded.hex


@pytest.fixture
def logged_in(operator):
    """The shared `logged_in`, but a server error comes back as its 500 for the assert to name."""
    return client_for(operator, raise_request_exception=False)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.one_of(st.text(min_size=1, max_size=60), code_like.filter(str.strip)))
def test_code_pages_and_api_answer_any_path_without_a_server_error(logged_in, text):
    # One client for every example: the fixture runs once, which is what is wanted here.
    segment = quote(text, safe="")
    for url in (f"/codes/{segment}/", f"/api/v1/codes/{segment}"):
        response = logged_in.get(url)
        assert response.status_code in (200, 301, 302, 404), (url, response.status_code)


@settings(max_examples=60, deadline=None)
@given(code_like.filter(lambda s: s.strip() and not s.strip().startswith("-")))
def test_decode_command_fails_with_a_command_error_not_a_traceback(text):
    try:
        call_command("decode", text, "--no-db", stdout=_Sink())
    except CommandError as exc:
        assert str(exc)


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
