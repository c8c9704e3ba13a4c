"""Users, partner clients, API keys and bearer tokens."""
