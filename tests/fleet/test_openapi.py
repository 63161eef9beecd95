"""fleet/openapi.py: one document from every API's declaration, no slice silently replacing
what another declared."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fleet import openapi


def test_every_slice_is_in_the_document():
    document = openapi.document()
    for api in openapi.API_SLICES:
        assert set(api.paths()) <= set(document["paths"])
        for section, entries in api.components().items():
            for name, value in entries.items():
                assert document["components"][section][name] == value


def test_two_slices_declaring_one_entry_differently_is_an_error(monkeypatch):
    session = {"session": {"type": "apiKey", "in": "cookie", "name": "other"}}
    rival = SimpleNamespace(paths=dict, components=lambda: {"securitySchemes": session})
    monkeypatch.setattr(openapi, "API_SLICES", (*openapi.API_SLICES, rival))
    with pytest.raises(ValueError, match=r"components\.securitySchemes\.session"):
        openapi.document()


def test_two_slices_may_share_an_entry_declared_alike(monkeypatch):
    shared = SimpleNamespace(paths=dict, components=openapi.API_SLICES[-1].components)
    monkeypatch.setattr(openapi, "API_SLICES", (*openapi.API_SLICES, shared))
    assert openapi.document()["components"]["securitySchemes"]["session"]["in"] == "cookie"
