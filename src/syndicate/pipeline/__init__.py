"""The jobs: gather, build_all_feeds (+ announce_changes), prepare_edition, preview_edition.

Faces (cli, scheduler, web) call these; they wire the stages together and own no parsing,
SQL or rendering of their own. Each name is imported when first used (syndicate.lazy): a
command that gathers does not load the digest's renderer, nor one that builds feeds the
feed client.
"""

from typing import TYPE_CHECKING

from syndicate.lazy import LazyNames

if TYPE_CHECKING:  # each name is imported when first used (syndicate.lazy)
    from syndicate.feeds.websub import HubReport
    from syndicate.pipeline.edition import (
        EditionError,
        PreviewReport,
        current_week,
        list_id,
        prepare_edition,
        preview_edition,
        site_view,
        template_source,
    )
    from syndicate.pipeline.gather_report import GatherReport, Report
    from syndicate.pipeline.gathering import Progress, gather
    from syndicate.pipeline.publish import (
        FeedsReport,
        announce_changes,
        build_all_feeds,
        feed_options,
    )

__getattr__ = LazyNames(__name__, __file__)

__all__ = [
    "EditionError",
    "FeedsReport",
    "GatherReport",
    "HubReport",
    "PreviewReport",
    "Progress",
    "Report",
    "announce_changes",
    "build_all_feeds",
    "current_week",
    "feed_options",
    "gather",
    "list_id",
    "prepare_edition",
    "preview_edition",
    "site_view",
    "template_source",
]
