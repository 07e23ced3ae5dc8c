"""syndicate: gather articles, publish feeds, mail a weekly digest."""

__version__ = "0.1.0"
