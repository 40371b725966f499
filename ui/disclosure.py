"""The disclosure rule for the current viewer: None for roles that see exact figures."""

from __future__ import annotations

from config import get_config
from hotspots.disclosure import DisclosureRule
from ui.access import viewer


def rule_from_config() -> DisclosureRule:
    """The :class:`~hotspots.disclosure.DisclosureRule` of ``config/settings.toml``."""
    config = get_config()
    return DisclosureRule(
        threshold=int(config.setting("disclosure_threshold").default),
        rounding=int(config.setting("disclosure_rounding").default),
        radius_m=float(config.setting("disclosure_radius").default),
        min_bandwidth_m=float(config.setting("disclosure_min_bandwidth").default),
        min_cell_m=float(config.setting("disclosure_min_cell_size").default))


def current_rule() -> DisclosureRule | None:
    """The rule for partner and public viewers; None for analysts, admins and CSP users."""
    return rule_from_config() if viewer().aggregate_only else None
