"""The append-only, hash-chained audit trail of state changes."""
