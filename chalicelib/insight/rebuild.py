"""`rebuild-counters`: recompute a campaign's counter items from its invitations, report every difference, repair.

Every counter item should equal the sum of what its invitations contribute
(`counters.contribution`, expanded to the invitation's segments), because the applier
(chalicelib.answers.counting) moves the counters by `contribution - counted` exactly once per change
and records `counted` on the invitation in the same transaction. Two kinds of drift can
still happen, and they are repaired differently:

* **Counter drift**: an item differs from the sum of what its invitations say they counted
  (`counted`): a manual edit, a restore of one table without the other. Repaired by ADDing
  the difference to the item.
* **Outdated contributions**: an invitation's `counted` is not what its state contributes
  under today's rules (a rule added later, such as keyword themes). ADDing would be wrong:
  the next edit of that invitation would move the counters by `new - counted` from the
  outdated `counted` and undo the repair. Such invitations are marked changed instead, so
  the applier recounts them exactly once.

Safe while answers arrive and the applier runs: pending changes are applied first, an
invitation still pending when read is compared by what it counted (its change is on its way),
and the counter items are read before and after the pass over the invitations: an item that
moved meanwhile is reported, not repaired (run again). Every repair is an ADD of a difference,
never an overwrite, and ADDs commute with the applier's own ADDs, so nothing it writes
concurrently is lost. Reads use the campaign-invitations index and BatchGetItem (100 ids a
request), never a Scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from chalicelib.answers import counting
from chalicelib.campaigns.campaigns import CampaignView, get_view, view
from chalicelib.core import counters
from chalicelib.store import bind, count_pending
from chalicelib.store.counts import add, read
from chalicelib.store.models import Campaign, Invitation
from chalicelib.store.transact import ConditionFailed, update

BATCH = 100
PROGRESS_EVERY = 1000
APPLY_ROUNDS = 50


@dataclass(frozen=True)
class Difference:
    key: str
    name: str
    stored: int
    recomputed: int


@dataclass
class Report:
    campaign_id: str
    invitations: int = 0
    differences: list[Difference] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # counter items that changed during the check
    outdated: list[tuple[str, int]] = field(default_factory=list)  # (invitation id, rev) counted by old rules
    pending: int = 0
    drift: dict[str, counters.Counts] = field(default_factory=dict)  # key -> what ADDing repairs
    fixed: bool = False

    def summary(self) -> str:
        items = len({d.key for d in self.differences})
        text = (
            f"campaign {self.campaign_id}: {self.invitations:,} invitations, "
            f"{len(self.differences):,} difference(s) in {items:,} counter item(s)"
        )
        if self.outdated:
            text += f", {len(self.outdated):,} invitation(s) counted by outdated rules"
        if self.moved:
            text += f"; {len(self.moved):,} item(s) changed during the check and were not compared: run again"
        if self.differences and not self.fixed:
            text += "; run with --fix to repair"
        return text + ("; fixed" if self.fixed else "")


def _ints(periods: object) -> dict[str, counters.Counts]:
    """`counted` as stored (numbers may come back as floats) in whole numbers."""
    return {p: {name: int(v) for name, v in counts.items()} for p, counts in counters.plain(periods).items()}


def stored_items(campaign_id: str) -> dict[str, counters.Counts]:
    """The campaign's counter items of periods and segments (`W#...#_`), not its label items."""
    return {k: v for k, v in read(campaign_id, consistent=True).items() if k.count("#") >= 2}


def invitation_ids(campaign_id: str) -> list[str]:
    """Every invitation of the campaign, from the keys-only campaign-invitations index, paged."""
    bind()
    return [item.id for item in Invitation.by_campaign.query(campaign_id)]


def check(campaign: CampaignView, log: Callable[[str], None]) -> Report:
    """Recompute and compare; reports differences (stored against recomputed) and what repairs them."""
    report = Report(campaign.id)
    before = stored_items(campaign.id)
    ids = invitation_ids(campaign.id)
    recomputed: dict[str, counters.Counts] = {}
    counted_sum: dict[str, counters.Counts] = {}
    for start in range(0, len(ids), BATCH):
        for invitation in Invitation.batch_get(ids[start : start + BATCH], consistent_read=True):
            segments = counters.segment_keys(counters.plain(invitation.properties), campaign.segments)
            counted = _ints(invitation.counted)
            now_counts = counting.contribution_of(invitation, campaign)
            if invitation.count_pk is not None:
                report.pending += 1  # its change is on its way through the applier
                now_counts = counted
            elif counters.period_delta(counted, now_counts):
                report.outdated.append((invitation.id, int(invitation.rev or 0)))
            counters.add_into(recomputed, counters.expand(now_counts, segments))
            counters.add_into(counted_sum, counters.expand(counted, segments))
            report.invitations += 1
            if report.invitations % PROGRESS_EVERY == 0:
                log(f"campaign {campaign.id}: {report.invitations:,} / {len(ids):,} invitations")
    log(f"campaign {campaign.id}: {report.invitations:,} / {len(ids):,} invitations")
    after = stored_items(campaign.id)
    report.moved = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    for key in sorted((set(before) | set(recomputed)) - set(report.moved)):
        stored, wanted = before.get(key, {}), recomputed.get(key, {})
        for name in sorted(set(stored) | set(wanted)):
            if stored.get(name, 0) != wanted.get(name, 0):
                report.differences.append(Difference(key, name, stored.get(name, 0), wanted.get(name, 0)))
        drift = counters.delta(stored, counted_sum.get(key, {}))
        if drift:
            report.drift[key] = drift
    return report


def fix(report: Report) -> None:
    """Recount invitations counted by outdated rules (through the applier), then ADD the counter drift."""
    for invitation_id, rev in report.outdated:
        try:
            update(Invitation, invitation_id, count_pending.changed(invitation_id), Invitation.rev == rev)
        except ConditionFailed:
            continue  # it changed meanwhile, so the applier recounts it anyway
    apply_all()
    for key, deltas in report.drift.items():
        add(report.campaign_id, [key], deltas)
    report.fixed = True


def apply_all() -> None:
    """Apply pending changes until none is left (bounded, in case answers keep arriving)."""
    for _ in range(APPLY_ROUNDS):
        if not sum(counting.apply_pending().values()):
            return


def campaigns_to_check(campaign_id: str | None) -> Iterator[CampaignView]:
    if campaign_id:
        yield get_view(campaign_id)
        return
    bind()
    for campaign in Campaign.all_campaigns.query("campaign"):
        yield view(campaign)


def rebuild(campaign_id: str | None, repair: bool, log: Callable[[str], None]) -> list[Report]:
    """Check one campaign or all of them; print every difference; repair them with `repair`."""
    apply_all()
    reports = []
    for campaign in campaigns_to_check(campaign_id):
        report = check(campaign, log)
        for d in report.differences:
            log(f"  {d.key}  {d.name}: stored {d.stored:,}, recomputed {d.recomputed:,}")
        if repair and (report.differences or report.outdated or report.drift):
            fix(report)
        log(report.summary())
        reports.append(report)
    return reports
