"""The subscriptions function URL: the status page's form, and the links in subscriber mail.

- ``POST /subscribe`` (the page's plain HTML form: ``email``, ``component`` any number of times): double opt-in,
  answered with a small page; the source address is the request's (``requestContext.http.sourceIp``), which the
  caller cannot set.
- ``GET ?a=confirm&...`` and ``GET ?a=unsubscribe&...`` (a mail's links): a page with one button that posts the
  signed fields back. Opening a link changes nothing: mail scanners open every link in a message.
- ``POST`` with the signed fields in the form: confirms or unsubscribes.
- ``POST ?a=unsubscribe&...`` with the body ``List-Unsubscribe=One-Click``: RFC 8058's one-click unsubscribe, sent by
  the mail client from the message's List-Unsubscribe header; answered 200 with no interaction.

Requests are routed by :mod:`siren.app.function_url`; any other method is answered 405 with Allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl

from siren.app.ack_links import PageResponse
from siren.app.clock import utc_now
from siren.app.function_url import ANY_PATH, Request, Route, Router
from siren.app.subscriptions import Answer, SubscriptionService
from siren.domain.subscriptions import ONE_CLICK
from siren.observability import logger
from siren.render.subscription_pages import subscription_page

# An email, a few component ids, or a link's four signed fields: anything much larger is not the page's form.
MAX_FORM_BYTES: Final = 8192
_SIGNED_FIELDS: Final = ("a", "m", "t", "e", "s")

_PAGES: Final[Mapping[Answer, tuple[int, str, str]]] = {
    Answer.CHECK_YOUR_INBOX: (
        200,
        "Check your inbox",
        "If this address can receive mail, a message with a confirmation link is on its way. Nothing is sent until "
        "the link is followed.",
    ),
    Answer.BAD_REQUEST: (400, "Not subscribed", "Enter one email address, and pick components from the page's list."),
    Answer.TOO_MANY: (429, "Too many requests", "Too many subscriptions were asked for just now. Try again later."),
    Answer.CONFIRMED: (200, "Subscribed", "You will get an email when an incident is opened, updated or resolved."),
    Answer.UNSUBSCRIBED: (200, "Unsubscribed", "This address gets no more mail from this status page."),
    Answer.LINK_REFUSED: (
        403,
        "Invalid link",
        "This link is not valid any more (expired, or replaced by a newer subscription). Subscribe again from the "
        "status page.",
    ),
}


@dataclass(frozen=True, slots=True, eq=False)
class SubscriptionEndpoint:
    service: SubscriptionService
    _: KW_ONLY
    clock: Callable[[], datetime] = utc_now

    def handle(self, event: Mapping[str, object]) -> PageResponse:
        return _SUBSCRIPTIONS.resolve(self, event)

    def _service(self, request: Request) -> SubscriptionService:
        domain = str((request.event.get("requestContext") or {}).get("domainName") or "")
        return self.service.linking_to(f"https://{domain}/" if domain else "")

    def _answer(self, answer: Answer) -> PageResponse:
        status, heading, message = _PAGES[answer]
        return PageResponse(status, subscription_page(heading, message, page_name=self.service.settings.page_name))

    def _subscribe(self, request: Request, path: Mapping[str, str]) -> PageResponse:
        pairs = _form(request)
        if pairs is None:
            return self._answer(Answer.BAD_REQUEST)
        emails = [value for name, value in pairs if name == "email"]
        components = [value for name, value in pairs if name == "component" and value]
        if len(emails) != 1:
            return self._answer(Answer.BAD_REQUEST)
        answer = self._service(request).subscribe(emails[0], components, request.source_ip, self.clock())
        logger.info("subscribe", extra={"answer": str(answer)})
        return self._answer(answer)

    def _ask(self, request: Request, path: Mapping[str, str]) -> PageResponse:
        """A mail's link opened: a button to post it, so that a scanner's GET changes nothing."""
        query = request.query()
        signed = {name: query[name] for name in _SIGNED_FIELDS if query.get(name)}
        action = query.get("a")
        page_name = self.service.settings.page_name
        if action == "confirm":
            heading, message, button = "Confirm your subscription", f"Send updates to {query.get('m', '')}?", "Confirm"
        elif action == "unsubscribe":
            heading, message, button = "Unsubscribe", f"Stop sending updates to {query.get('m', '')}?", "Unsubscribe"
        else:
            return PageResponse(
                404, subscription_page("Nothing here", "Subscribe from the status page.", page_name=page_name)
            )
        return PageResponse(200, subscription_page(heading, message, form=signed, button=button, page_name=page_name))

    def _act(self, request: Request, path: Mapping[str, str]) -> PageResponse:
        """A link's button (its signed fields in the form), or RFC 8058's one-click POST (signed fields in the
        query, ``List-Unsubscribe=One-Click`` the body)."""
        pairs = _form(request)
        if pairs is None:
            return self._answer(Answer.LINK_REFUSED)
        form = dict(pairs)
        now = self.clock()
        if form.get("List-Unsubscribe") == ONE_CLICK.partition("=")[2]:
            answer = self.service.unsubscribe(request.query(), now)
        elif form.get("a") == "confirm":
            answer = self.service.confirm(form, now)
        elif form.get("a") == "unsubscribe":
            answer = self.service.unsubscribe(form, now)
        else:
            answer = Answer.LINK_REFUSED
        logger.info("subscription link", extra={"answer": str(answer)})
        return self._answer(answer)


def _form(request: Request) -> list[tuple[str, str]] | None:
    """The url-encoded form's fields in order (a field may repeat), or None when it cannot be read."""
    try:
        raw = request.body()
        if len(raw) > MAX_FORM_BYTES:
            return None
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except ValueError:
        return None


_SUBSCRIPTIONS: Router[SubscriptionEndpoint, PageResponse] = Router(
    {
        "GET": [Route.of(ANY_PATH, SubscriptionEndpoint._ask)],
        "POST": [Route.of("subscribe", SubscriptionEndpoint._subscribe), Route.of(ANY_PATH, SubscriptionEndpoint._act)],
    },
    lambda request, allow: PageResponse(
        405, subscription_page("Not allowed", "Use the form on the status page."), {"allow": allow}
    ),
)
