"""Master patient index: duplicate scoring, index-backed candidate retrieval, merge and unmerge.

:mod:`.scoring` (pure scorer, weights documented in ``docs/registration.md``), :mod:`.candidates`
(search-index lookups, ``replaced-by`` following), :mod:`.merge` (merge/unmerge with a Provenance).
"""

from .candidates import Found, find_patients, surviving
from .merge import MergeResult, merge_patients, unmerge_patients
from .scoring import LIKELY, POSSIBLE, Match, PersonKey, Reason, score

__all__ = ["LIKELY", "POSSIBLE", "Found", "Match", "MergeResult", "PersonKey", "Reason", "find_patients",
           "merge_patients", "score", "surviving", "unmerge_patients"]
