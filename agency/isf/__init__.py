"""Individual Service Funds: the ledger, ISF accounts, invoices and paying providers."""
