"""MkDocs hook: render the docstrings' Sphinx roles (:class:`~a.B`) as plain code (``B``).

The package's docstrings are read by ``help()`` as much as by this site, and some name other
objects with Sphinx roles. mkdocstrings leaves those roles as text (":class:" before the code),
so this hook drops the role and, as Sphinx does for a leading ``~``, keeps the last dotted part.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:class|mod|func|meth|attr|data|exc|obj|const):<code>(~?)([^<]*)</code>")


def _plain(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs: object) -> str:
    return _ROLE.sub(_plain, html)
