"""Micro-provider profiles, availability, compliance and vetting."""
