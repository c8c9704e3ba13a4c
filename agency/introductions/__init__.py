"""Suggestions -> introductions -> arrangements: the matching results and the agreed care."""
