"""`syndicate run`: the long-running service (APScheduler jobs, the lease, the web front).

The scheduler is only a clock: what a job does is decided from the database (catchup.py).
"""

from typing import TYPE_CHECKING

from syndicate.lazy import LazyNames

if TYPE_CHECKING:  # each name is imported when first used (syndicate.lazy)
    from syndicate.errors import ServiceError
    from syndicate.service.main import exit_now_if_abandoned, run_service
    from syndicate.service.runner import Stopped

__getattr__ = LazyNames(__name__, __file__)

__all__ = ["ServiceError", "Stopped", "exit_now_if_abandoned", "run_service"]
