"""Why the API contract is declared with msgspec: msgspec and pydantic v2 on the ingest item.

    .venv/bin/pip install 'pydantic>=2,<3'   # not a dependency of the project
    .venv/bin/python bench/validation_libraries.py

Times, on the batches `bench_api.py` posts (1,000 items each), the part of validation a library
does: reading the body and checking each item against the declaration (types, lengths, the
source pattern, defaults, required fields), one item at a time so that each bad item is named.
The rules after it (code notations, time bounds, host part, KB forms) are the same Python code
whichever library declares the item, so they are left out. msgspec is timed on the declaration
the API uses (`fleet/ingest/schema.py`), pydantic on the same fields declared here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ROUNDS = 30


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")
    import django

    django.setup()
    import msgspec
    import pydantic
    from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

    from bench.bench_api import batch_body, batch_template
    from fleet.ingest import schema

    text = Annotated[StrictStr, Field(max_length=64)]

    class Device(BaseModel):
        model_config = ConfigDict(strict=True)
        hostname: StrictStr
        intune_device_id: text | None = None
        entra_device_id: text | None = None

    class Occurrence(BaseModel):
        model_config = ConfigDict(strict=True)
        device: StrictStr | Device
        code: StrictStr | StrictInt
        occurred_at: StrictStr
        intune_device_id: text | None = None
        entra_device_id: text | None = None
        source: Annotated[StrictStr, Field(pattern=schema.SOURCE_PATTERN)] = "api"
        update_title: Annotated[StrictStr, Field(max_length=schema.MAX_TITLE)] | None = None
        kb: Annotated[StrictStr, Field(max_length=schema.MAX_KB)] | None = None
        message: Annotated[StrictStr, Field(max_length=schema.MAX_MESSAGE)] | None = None
        event_id: Annotated[StrictStr, Field(max_length=schema.MAX_EVENT_ID)] | StrictInt | None = (
            None
        )

    body = batch_body(batch_template().encode(), 1)
    items = json.loads(body)
    pydantic_item = pydantic.TypeAdapter(Occurrence)
    raw_list = msgspec.json.Decoder(list[msgspec.Raw])
    msgspec_item = msgspec.json.Decoder(schema.Occurrence)
    contenders = {
        "json.loads alone (the old view's body parsing)": lambda: json.loads(body),
        "msgspec: json.loads + convert per item": lambda: [
            msgspec.convert(item, schema.Occurrence) for item in json.loads(body)
        ],
        "msgspec: decode the list, then each item to the Struct (the API's path)": lambda: [
            msgspec_item.decode(raw) for raw in raw_list.decode(body)
        ],
        "pydantic: json.loads + validate_python per item": lambda: [
            pydantic_item.validate_python(item) for item in json.loads(body)
        ],
        "pydantic: validate_json per item (list split by msgspec)": lambda: [
            pydantic_item.validate_json(bytes(raw)) for raw in raw_list.decode(body)
        ],
    }
    assert len(contenders["pydantic: json.loads + validate_python per item"]()) == len(items)
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(ROUNDS):  # interleaved, so a busy moment of the machine hits every contender
        for name, run in contenders.items():
            started = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - started)
    print(f"msgspec {msgspec.__version__}, pydantic {pydantic.__version__}; CPU ms per batch of "
          f"{len(items):,}, best of {ROUNDS}:")  # fmt: skip
    for name, seconds in best.items():
        print(f"  {seconds * 1000:6.2f}  {name}")


if __name__ == "__main__":
    main()
