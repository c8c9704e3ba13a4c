"""Care seekers (registered by partner clients, with consent) and their care requests."""
