"""Clients of outside systems (national insurance gateway, ...), each with an injectable transport."""
