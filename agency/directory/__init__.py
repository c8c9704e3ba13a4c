"""Councils, agencies, neighbourhoods, service types and the Open Referral view."""
