"""Observability: structured logs (and, as they land, metrics, status and reports)."""
