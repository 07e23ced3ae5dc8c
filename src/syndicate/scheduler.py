"""APScheduler triggers -> pipeline jobs."""
