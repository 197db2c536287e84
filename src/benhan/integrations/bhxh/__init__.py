"""The BHXH (Vietnam Social Security) gateway: BHYT card check at check-in.

:mod:`.client` is the real client; :mod:`.fake_gateway` is a local FAKE of the published contract
for tests and demos.
"""

from .client import (
    BhxhAuthError,
    BhxhCardClient,
    BhxhCredentials,
    BhxhError,
    BhxhMalformedResponse,
    BhxhTimeout,
    BhxhUnavailable,
    CardCheck,
    CardQuery,
)
from .results import CardResult, CardStatus

__all__ = ["BhxhAuthError", "BhxhCardClient", "BhxhCredentials", "BhxhError", "BhxhMalformedResponse",
           "BhxhTimeout", "BhxhUnavailable", "CardCheck", "CardQuery", "CardResult", "CardStatus"]
