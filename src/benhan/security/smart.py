"""The SMART App Launch v2 discovery document (``/.well-known/smart-configuration``)."""

from __future__ import annotations

from typing import Any

from .scopes import OTHER_SCOPES


def smart_configuration(origin: str) -> dict[str, Any]:
    return {
        "issuer": origin,
        "jwks_uri": f"{origin}/.well-known/jwks.json",
        "authorization_endpoint": f"{origin}/oauth/authorize",
        "token_endpoint": f"{origin}/oauth/token",
        "revocation_endpoint": f"{origin}/oauth/revoke",
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [*sorted(OTHER_SCOPES), "patient/*.rs", "user/*.cruds", "system/*.rs", "system/*.cruds"],
        "capabilities": ["launch-ehr", "launch-standalone", "authorize-post", "client-public",
                         "client-confidential-asymmetric",
                         "context-ehr-patient", "context-ehr-encounter", "context-standalone-patient",
                         "context-standalone-encounter",
                         "sso-openid-connect", "permission-offline", "permission-online",
                         "permission-v1", "permission-v2", "permission-patient", "permission-user"],
    }
