"""`manage.py decode CODE [--json]`: explain a code in any notation, before or after import."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from codes.decode import decode
from codes.parse import CodeError


class Command(BaseCommand):
    help = (
        "Decode an error code written as hex (0x8024000B, 8024000B), signed or unsigned "
        "decimal (-2145124341, 2149842955, 1603), as a setup result–extend pair "
        "(0xC1900101-0x4000D, 0xC1900101 - 0x30018) "
        "or a name (0x8024000B (WU_E_CALL_CANCELLED))."
    )

    def add_arguments(self, parser):
        # nargs="+" lets `decode 0xC1900101 - 0x30018` work unquoted; argparse already reads
        # `-2145124341` as a value because no option of this command looks like a number.
        parser.add_argument("code", nargs="+", help="the code, in any notation")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--no-db", action="store_true", help="ignore database edits (catalog file only)"
        )

    def handle(self, *args, **options):
        text = " ".join(options["code"])
        try:
            decoded = decode(text, use_db=not options["no_db"])
        except CodeError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError:
            # No tables yet (fresh checkout): the committed files are enough.
            decoded = decode(text)
        if options["json"]:
            self.stdout.write(json.dumps(decoded.as_dict(), indent=2, ensure_ascii=False))
            return
        self.stdout.write(self.format_text(decoded))

    @staticmethod
    def format_text(d) -> str:
        h = d.hresult
        lines = [
            d.hex + (f"  extend 0x{d.extension} (pair {d.notation})" if d.extension else ""),
            f"  name          {d.name or '(no symbolic name known)'}",
        ]
        if d.other_names:
            lines.append(f"  also known as {', '.join(d.other_names)}")
        if d.title:
            lines.append(f"  title         {d.title}")
        if d.message:
            lines.append(f"  message       {d.message}")
        lines += [
            f"  decimal       signed {d.signed}, unsigned {d.unsigned}",
            f"  severity      {d.severity} (operator); HRESULT {d.hresult_severity}",
            f"  family        {d.family_name} [{d.family}]",
            f"  facility      {d.facility} {d.facility_name}",
            f"  HRESULT bits  S={h.severity_bit} R={h.reserved_bit} C={h.customer_bit} "
            f"N={h.nt_bit} code=0x{h.code:04X}",
        ]
        if d.setup_extend:
            x = d.setup_extend
            lines.append(
                f"  setup phase   {x.phase} {x.phase_name or '(not in Microsoft table)'}"
                + (f": {x.phase_label}" if x.phase_label else "")
            )
            operation = x.operation_name or "(not in Microsoft table)"
            lines.append(f"  operation     0x{x.operation:X} {operation}")
        if d.installer_exit:
            i = d.installer_exit
            lines.append(
                f"  exit code     {i.exit_code}: Intune reads {i.intune_result} ({i.meaning}) "
                f"= HRESULT {i.hresult}"
            )
        if d.component:
            lines.append(f"  component     {d.component}")
        if d.win32:
            lines.append(
                f"  Win32         {d.win32.code} {d.win32.name or '(unknown)'} "
                f"= HRESULT {d.win32.hresult}" + (f": {d.win32.message}" if d.win32.message else "")
            )
        if d.ntstatus:
            nt = d.ntstatus
            via = " via HRESULT_FROM_NT" if nt.from_hresult else ""
            lines.append(f"  NTSTATUS      {nt.value} {nt.name or ''} severity {nt.severity}{via}")
        if d.severity_reason:
            lines.append(f"  why           {d.severity_reason}")
        return "\n".join(lines)
