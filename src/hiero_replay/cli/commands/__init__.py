"""One module per command; each imports only click at the top and the rest when it runs."""
