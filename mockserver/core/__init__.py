"""Vendor-neutral building blocks. Nothing here imports Starlette or a concrete provider."""
