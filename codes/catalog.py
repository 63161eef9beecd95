"""Read the committed, generated catalog (codes/data/catalog.json.gz).

The decoder uses it directly so `manage.py decode` works before `import_codes` has run;
`import_codes` copies it into the database. Regenerate it with scripts/build_catalog.py.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "catalog.json.gz"


@dataclass(frozen=True)
class CatalogEntry:
    value: int
    name: str
    other_names: tuple[str, ...] = ()
    message: str = ""
    message_source: str = ""
    header: str = ""
    namespaces: tuple[str, ...] = ()
    component: str = ""
    listed_in: tuple[str, ...] = ()
    # A short documented title for a code Microsoft names no symbol for (family extracts).
    title: str = ""

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)


@dataclass(frozen=True, eq=False)  # hashed by identity so lookups can be cached
class Catalog:
    entries: dict[int, CatalogEntry]
    attribution: dict = field(default_factory=dict)
    # [{"n": facility number, "names": [FACILITY_* macros]}] from the SDK's winerror.h
    facilities: tuple[dict, ...] = ()

    def get(self, value: int) -> CatalogEntry | None:
        return self.entries.get(value)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries.values())

    def by_name(self, name: str) -> CatalogEntry | None:
        """The entry that has `name` as primary or other name (case-sensitive)."""
        return _name_index(self).get(name)

    def source_label(self, source_id: str) -> str:
        for source in self.attribution.get("sources", []):
            if source.get("id") == source_id:
                return source.get("from", source_id)
        return source_id


@cache
def _name_index(catalog: Catalog) -> dict[str, CatalogEntry]:
    index: dict[str, CatalogEntry] = {}
    for entry in catalog:
        for name in entry.names:
            index.setdefault(name, entry)
    return index


def read_catalog(path: Path = DATA_FILE) -> Catalog:
    """Parse a catalog file; raises FileNotFoundError or ValueError with the path."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable catalog file ({exc})") from exc
    entries = {}
    for row in data["codes"]:
        entries[row["v"]] = CatalogEntry(
            value=row["v"],
            name=row["name"],
            other_names=tuple(row.get("others", ())),
            message=row.get("message", ""),
            message_source=row.get("message_source", ""),
            header=row.get("header", ""),
            namespaces=tuple(row.get("ns", ())),
            component=row.get("component", ""),
            listed_in=tuple(row.get("listed_in", ())),
            title=row.get("title", ""),
        )
    return Catalog(
        entries=entries,
        attribution=data.get("attribution", {}),
        facilities=tuple(data.get("facilities", ())),
    )


@cache
def load_catalog() -> Catalog:
    """The committed catalog, read once per process."""
    return read_catalog(DATA_FILE)


def lookup(value: int) -> CatalogEntry | None:
    return load_catalog().get(value)
