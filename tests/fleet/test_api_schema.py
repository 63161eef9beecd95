"""fleet/api_schema.py: declarations to validation (naming the field) and to OpenAPI schemas."""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
import pytest

from fleet.api_schema import (
    FieldError,
    NotAList,
    convert,
    decode_list,
    ref,
    required_fields,
    schemas,
)


class Part(msgspec.Struct):
    serial: Annotated[str, msgspec.Meta(max_length=4)]
    note: str = ""


class Order(msgspec.Struct):
    part: Part
    quantity: Annotated[int, msgspec.Meta(ge=1)]
    comment: str | None = None


def problem(value: object, report_as: dict[str, str] | None = None) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        convert(value, Order, report_as)
    return caught.value.field, caught.value.message


def test_a_missing_field_is_named_with_its_path():
    assert problem({"part": {"serial": "A1"}}) == ("quantity", "quantity is required")
    assert problem({"part": {}, "quantity": 1}) == ("serial", "part.serial is required")


def test_a_wrong_value_is_named_by_its_innermost_field_or_as_reported():
    field, message = problem({"part": {"serial": "A12345"}, "quantity": 1})
    assert field == "serial" and message.startswith("part.serial: expected `str` of length <= 4")
    assert problem({"part": {"serial": 5}, "quantity": 1}, {"serial": "part"})[0] == "part"
    assert problem({"part": {"serial": "A1"}, "quantity": 0})[0] == "quantity"


def test_a_value_that_is_no_object_names_no_field():
    assert problem([1, 2]) == ("", "Expected `object`, got `array`")


def test_required_fields_and_schemas_come_from_the_same_declaration():
    components = schemas(Order)
    assert set(components) == {"Order", "Part"}
    assert set(components["Order"]["required"]) == required_fields(Order) == {"part", "quantity"}
    assert components["Order"]["properties"]["part"] == ref(Part)
    assert components["Part"]["properties"]["serial"]["maxLength"] == 4


def test_a_list_body_decodes_valid_items_to_the_declaration_and_keeps_the_rest_as_json():
    items = decode_list(b'[{"part": {"serial": "A1"}, "quantity": 2}, {"quantity": "x"}, 7]', Order)
    assert items == [Order(part=Part(serial="A1"), quantity=2), {"quantity": "x"}, 7]


def test_a_body_msgspec_cannot_read_is_read_as_json_loads_reads_it():
    [nan] = decode_list(b"[NaN]", Order)  # json.loads accepts NaN; msgspec does not
    assert math.isnan(nan)
    assert decode_list(b'[{"comment": "\\ud800"}]', Order) == [{"comment": "\ud800"}]
    with pytest.raises(ValueError):
        decode_list(b"[1,", Order)
    with pytest.raises(NotAList):
        decode_list(b'{"part": {}}', Order)
    with pytest.raises(NotAList):
        decode_list(b'"\\ud800"', Order)
