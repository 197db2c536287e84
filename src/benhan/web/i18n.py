"""Message catalogs of the web app (Babel ``.po`` files), Vietnamese first, English available.

Message ids are the English text; ``locale/vi/LC_MESSAGES/*.po`` holds the Vietnamese, one file per
part of the app (``app.po``, ``reception.po``, ...), all merged at start. The ``.po`` files are read
directly with Babel (no compile step). English is the message id itself.

The language is the user's, not the browser's: a signed-in user's pages use the language stored on
the account (``user_account.language``, set when the user switches with the language link), so it
follows them from browser to browser; before sign-in (the login page) the ``benhan_lang`` cookie and
then Accept-Language decide.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from benhan.security.accounts import User
from benhan.security.web_i18n import LANGS, pick_lang

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANG = "vi"

Gettext = Callable[..., str]


@cache
def catalog(lang: str) -> dict[str, str]:
    """``msgid -> translation`` for ``lang`` from every ``.po`` file (empty for English)."""
    out: dict[str, str] = {}
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with path.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                    out[message.id] = str(message.string)
    return out


def gettext_for(lang: str) -> Gettext:
    """``_("Text {name}", name=...)`` in ``lang``; falls back to the English id when untranslated."""
    table = catalog(lang) if lang != "en" else {}

    def _(message: str, **values: object) -> str:
        text = table.get(message, message)
        return text.format(**values) if values else text

    return _


def user_lang(user: User, asked: str | None, browser: str) -> str:
    """A signed-in user's language: the one just asked for, else the account's, else the browser's."""
    for lang in (asked, user.language):
        if lang in LANGS:
            return lang
    return browser


__all__ = ["DEFAULT_LANG", "LANGS", "Gettext", "catalog", "gettext_for", "pick_lang", "user_lang"]
