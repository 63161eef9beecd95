"""One round of the background work, in the order each step needs: aggregate the new
occurrences, run the triage rules and signals over the aggregates, evaluate alert rules, send
due emails and webhook posts.

Beat runs it every minute through `fleet.tasks.run_pipeline`; `manage.py run_pipeline` runs it
in process. Every step is idempotent and guards itself against a concurrent round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from fleet.aggregate import AggregationResult, aggregate_pending
from fleet.alerts.channels import deliver_channels
from fleet.alerts.email import DeliveryResult, deliver_pending
from fleet.alerts.firing import EvaluationResult, evaluate_alerts
from fleet.triage.flags import TriageResult, run_triage


@dataclass
class PipelineResult:
    aggregation: AggregationResult
    triage: TriageResult
    alerts: EvaluationResult
    delivery: DeliveryResult
    webhooks: DeliveryResult = field(default_factory=DeliveryResult)

    def summary(self) -> list[str]:
        """Human-readable lines, one per step; the channels line (webhooks, Teams, Slack,
        PSA tickets) only when a rule has a channel at work."""
        lines = [
            f"aggregated {self.aggregation.occurrences} occurrences "
            f"in {self.aggregation.chunks} chunks",
            f"triage: {len(self.triage.raised)} flags raised, "
            f"{len(self.triage.regressed)} regressed, {len(self.triage.unmuted)} unmuted",
            f"alerts: {self.alerts.matched} over threshold, {len(self.alerts.fired)} fired, "
            f"{len(self.alerts.deliveries)} emails queued"
            + (f", {len(self.alerts.resolved)} resolved" if self.alerts.resolved else ""),
            f"emails: {self.delivery.sent} sent, {self.delivery.failed} failed"
            + "".join(f"\n  {error}" for error in self.delivery.errors),
        ]
        if self.alerts.webhooks or self.webhooks.sent or self.webhooks.failed:
            lines.append(
                f"channels: {len(self.alerts.webhooks)} queued, {self.webhooks.sent} sent, "
                f"{self.webhooks.failed} failed"
                + "".join(f"\n  {error}" for error in self.webhooks.errors)
            )
        return lines


def run_round(now: datetime | None = None, deliver: bool = True) -> PipelineResult:
    """Aggregate, triage, alert and deliver once. `now` pins the rule windows (tests).

    With `deliver=False` the emails and webhook posts stay queued in the database for the
    `alerts` queue's worker, so a slow or dead SMTP server or receiver never holds up aggregation.
    """
    aggregation = aggregate_pending()
    now = now or timezone.now()
    triage = run_triage(now)
    alerts = evaluate_alerts(now)
    delivery = deliver_pending(now) if deliver else DeliveryResult()
    webhooks = deliver_channels(now) if deliver else DeliveryResult()
    return PipelineResult(aggregation, triage, alerts, delivery, webhooks)
