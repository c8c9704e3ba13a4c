"""A local stand-in for Stripe (``stripe_server``: Connect accounts, transfers, signed webhooks),
used by tests and benches and, started by hand, by a local run (docs/isf.md)."""
