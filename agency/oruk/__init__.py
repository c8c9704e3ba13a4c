"""An Open Referral UK read view of approved providers as services."""
