"""Background jobs: RQ on Redis when REDIS_URL is set, inline in-process otherwise."""
