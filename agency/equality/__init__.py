"""Equal access: optional, consented equality monitoring and the equal-access report."""
