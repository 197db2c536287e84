"""OAuth 2.0 errors (RFC 6749 section 5.2) with a bilingual description."""

from __future__ import annotations


class OAuthError(Exception):
    """``error`` is the RFC 6749 code (``invalid_grant``, ``invalid_client``, ``invalid_scope`` ...)."""

    def __init__(self, error: str, vi: str, en: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {en}")
        self.error, self.vi, self.en, self.status = error, vi, en, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": f"{self.en} / {self.vi}"}
