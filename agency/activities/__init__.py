"""Community activities: published by agencies, suggested to seekers, referrals, attendance."""
