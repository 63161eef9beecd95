"""Measure how far realistic exports compress in a ZIP: the evidence behind the default of
`MAX_ARCHIVE_RATIO` (see docs/ingest.md, "ZIP archives").

    python bench/archive_ratio.py [--mib 100]

Writes, in memory, exports shaped like the real ones (Intune feature update failures, Intune
expedited update failures, Configuration Manager deployment errors, and a degenerate
ConfigMgr export of one device failing the same way on every row), each about `--mib` MiB, and
zips each with deflate (level 9), bzip2 (level 9) and LZMA. Prints uncompressed size / ZIP size.
Deterministic (seeded); asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import random
import uuid
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta

CODES = [
    "0x8024402C", "0x80070002", "0x8024A105", "0x80073712", "0xC1900101",
    "0x800F0922", "0x80240022", "0x8024200D", "0x80070005", "0x00000000",
]  # fmt: skip
START = datetime(2025, 3, 1)
DEVICES = 5000
METHODS = [("deflate", zipfile.ZIP_DEFLATED, 9), ("bzip2", zipfile.ZIP_BZIP2, 9),
           ("lzma", zipfile.ZIP_LZMA, None)]  # fmt: skip


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def intune_feature(rng: random.Random, limit: int) -> bytes:
    out = io.StringIO()
    out.write(
        '"PolicyId","PolicyName","FeatureUpdateVersion","DeviceId","AADDeviceId","AlertId",'
        '"EventDateTimeUTC","LastUpdatedAlertStatusDateTimeUTC","AlertType","AlertStatus",'
        '"AlertClassification","WindowsUpdateVersion","Build","AlertMessage",'
        '"AlertMessageDescription","AlertMessageData","Win32ErrorCode","RecommendedAction",'
        '"ExtendedRecommendedAction","StartDateTimeUTC","ResolvedDateTimeUTC","DeviceName","UPN"\r\n'
    )
    policies = [_guid(rng) for _ in range(3)]
    kinds = ["WS", "LT", "DT"]
    devices = [
        (_guid(rng), _guid(rng), f"CONTOSO-{rng.choice(kinds)}-{n:04d}") for n in range(DEVICES)
    ]
    when = START
    while out.tell() < limit:
        device_id, entra_id, name = rng.choice(devices)
        when += timedelta(seconds=rng.randrange(1, 40))
        out.write(
            f'"{rng.choice(policies)}","Win11 24H2 - Broad","Windows 11, version 24H2",'
            f'"{device_id}","{entra_id}","{uuid.UUID(int=rng.getrandbits(128)).hex}",'
            f'"{when:%Y-%m-%d %H:%M:%S}.0000000","{when + timedelta(hours=2):%Y-%m-%d %H:%M:%S}'
            '.0000000","ClientUpdateAlert","Active","Error","Windows 10, version 22H2",'
            f'"10.0.19045.{rng.choice([4529, 4412, 4651])}","DownloadConnectionIssue",'
            "\"Windows Update couldn't connect to the update server and the update couldn't "
            f'download.","","{rng.choice(CODES)}","Make sure your network is working and retry '
            f'the download.","","{when - timedelta(minutes=5):%Y-%m-%d %H:%M:%S}.0000000","",'
            f'"{name}","{name.lower().replace("-", ".")}@contoso.com"\r\n'
        )
    return out.getvalue().encode()


def intune_expedited(rng: random.Random, limit: int) -> bytes:
    out = io.StringIO()
    out.write(
        '"PolicyId","DeviceName","AlertMessage","AlertMessage_loc","Win32ErrorCode","UPN",'
        '"ExpediteQUReleaseDate","DeviceId"\r\n'
    )
    policy = _guid(rng)
    devices = [(f"FABRIKAM-DT-{n:04d}", _guid(rng)) for n in range(DEVICES)]
    while out.tell() < limit:
        name, device_id = rng.choice(devices)
        out.write(
            f'"{policy}","{name}","21","WUComponentMissing","{rng.choice(CODES)}",'
            f'"{name.lower().replace("-", ".")}@fabrikam.onmicrosoft.com","2025-03-11",'
            f'"{device_id}"\r\n'
        )
    return out.getvalue().encode()


def _configmgr(rng: random.Random, limit: int, one_device: bool) -> bytes:
    out = io.StringIO()
    out.write(
        '"MachineName","UserName","LastEnforcementTime","ErrorStatusID","ErrorCode",'
        '"ErrorCodeInt","MessageName"\r\n'
    )
    when = START
    while out.tell() < limit:
        if one_device:
            machine, code = "CM-PC-00001", 0x8024402C
            when += timedelta(seconds=5)
        else:
            machine, code = f"CM-PC-{rng.randrange(DEVICES):05d}", int(rng.choice(CODES), 16)
            when += timedelta(seconds=rng.randrange(1, 4), milliseconds=rng.randrange(1000))
        signed = code - (1 << 32) if code & 0x80000000 else code
        status = "Succeeded" if code == 0 else "Failed to install update(s)"
        out.write(
            f'"{machine}","CONTOSO\\user",'
            f'"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d}",'
            f'"{11756 if code else 0}","0x{code:08x}","{signed}","{status}"\r\n'
        )
    return out.getvalue().encode()


def configmgr(rng: random.Random, limit: int) -> bytes:
    return _configmgr(rng, limit, one_device=False)


def configmgr_one_device(rng: random.Random, limit: int) -> bytes:
    return _configmgr(rng, limit, one_device=True)


EXPORTS: list[tuple[str, Callable[[random.Random, int], bytes]]] = [
    ("Intune feature update failures", intune_feature),
    ("Intune expedited update failures", intune_expedited),
    ("ConfigMgr deployment errors", configmgr),
    ("ConfigMgr, one device, same row", configmgr_one_device),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=100, help="size of each export (MiB)")
    args = parser.parse_args()
    print(f"| export ({args.mib} MiB) | " + " | ".join(name for name, *_ in METHODS) + " |")
    print("|---|" + "---:|" * len(METHODS))
    for label, make in EXPORTS:
        data = make(random.Random(20250301), args.mib << 20)
        cells = []
        for _name, method, level in METHODS:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", method, compresslevel=level) as archive:
                archive.writestr("export.csv", data)
            cells.append(f"{len(data) / len(buffer.getvalue()):.1f}×")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
