"""Children's social care: the council's own records (NHS number).

Contacts, referrals and plans show the "children who need help" problem (a family
seen to need help has a child-in-need or child protection plan for each child, as
siblings are assessed together); a referral
after domestic abuse shows that problem; ``followup_referral`` rows fall in the
follow-up window and give the label a learned model can observe (never the truth).
"""

from __future__ import annotations

from simulator.schema.agencies import SocialCareConfig
from simulator.world.agencies.base import EventRule, PopulationChunk, source_records
from simulator.world.records import Rows

SOURCE = "social_care"
RULES = (
    EventRule("contact", "children_in_need", background_who="child"),
    EventRule("referral", "children_in_need", background_who="child"),
    EventRule("child_in_need_plan", "children_in_need", each="child"),
    EventRule("child_protection_plan", "children_in_need", each="child"),
    EventRule("domestic_abuse_referral", "domestic_abuse", on="child"),
    EventRule(
        "followup_referral",
        "harm",
        background_who="child",
        window="followup",
        on="child",
    ),
)


def records(chunk: PopulationChunk, cfg: SocialCareConfig) -> Rows:
    """Social care records in the observation window, and referrals in the follow-up."""
    return source_records(
        chunk, SOURCE, RULES, cfg.events, cfg.visibility_factors, cfg.background_factors
    )
