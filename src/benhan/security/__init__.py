"""Security core: accounts, roles and policy, tokens (OAuth 2 / SMART on FHIR), access decisions,
break-glass, sessions and the hash-chained audit trail. See docs/security.md."""
