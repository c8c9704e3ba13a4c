"""Local stand-ins for the outside services the API talks to (tests and `make run`)."""
