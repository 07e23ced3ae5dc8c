"""The web front (Starlette)."""
