"""The weekly digest: which articles make an edition (select) and how it looks (render)."""
