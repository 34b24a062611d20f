"""The small HTML pages of status page subscriptions: what the form's POST answers, and the confirm and unsubscribe
pages a mail's link opens (each a form with one button: the link alone changes nothing, because mail scanners open
every link they see).

The ack pages' template (templates/ack/page.html.j2): autoescaped, no script, no external resource, so that the ack
pages' strict headers (:data:`siren.render.ack_pages.SECURITY_HEADERS`) hold these too.
"""

from __future__ import annotations

from collections.abc import Mapping

from siren.render.templates import template

_BLUE = "#1d4ed8"


def subscription_page(
    heading: str, message: str, *, form: Mapping[str, str] | None = None, button: str = "", page_name: str = ""
) -> str:
    """``form``: the hidden fields the button posts back (to the URL the page was opened at)."""
    return template("ack/page.html.j2").render(
        heading=f"{page_name}: {heading}" if page_name else heading,
        message=message,
        incident=None,
        form=form,
        button=button,
        colour=_BLUE,
    )
