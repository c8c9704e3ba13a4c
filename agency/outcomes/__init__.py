"""Wellbeing outcomes: the ONS4 personal well-being questions before and after care."""
