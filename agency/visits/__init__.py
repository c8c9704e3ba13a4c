"""Visits a provider logs, the timesheets that gather them, and the invoices they become."""
