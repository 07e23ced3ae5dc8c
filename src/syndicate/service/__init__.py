"""`syndicate run`: the long-running service (APScheduler jobs, the lease, the web front).

The scheduler is only a clock: what a job does is decided from the database (catchup.py).
"""

from syndicate.errors import ServiceError
from syndicate.service.main import exit_now_if_abandoned, run_service
from syndicate.service.runner import Stopped

__all__ = ["ServiceError", "Stopped", "exit_now_if_abandoned", "run_service"]
