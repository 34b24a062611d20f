"""The pages behind a signed acknowledgement link: escaped, script-free, and the form carries the link."""

from __future__ import annotations

from siren.render.ack_pages import SECURITY_HEADERS, IncidentSummary, confirm_page, done_page, refused_page

HOSTILE = IncidentSummary(
    id="INC-1", severity="SEV1", service="checkout", title='<script>alert(1)</script> "quoted" & <b>', status="open"
)


def test_untrusted_values_are_escaped_everywhere():
    page = confirm_page("ack", "alice", HOSTILE, {"s": '"><script>x</script>'})
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &amp; &lt;b&gt;" in page
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in page


def test_confirm_page_posts_the_signed_fields_back():
    page = confirm_page("resolve", "bob", HOSTILE, {"i": "INC-1", "n": "abc"})
    assert '<form method="post">' in page
    assert '<input type="hidden" name="i" value="INC-1">' in page and "Resolve as bob" in page


def test_done_page_says_whether_anything_changed():
    assert "acknowledged by alice. Escalation stopped." in done_page("ack", "alice", HOSTILE, changed=True)
    already = done_page("ack", "alice", HOSTILE, changed=False)
    assert "Nothing to do" in already and "<form" not in already


def test_pages_need_no_script_and_are_locked_down():
    assert "default-src 'none'" in SECURITY_HEADERS["content-security-policy"]
    assert SECURITY_HEADERS["referrer-policy"] == "no-referrer" and SECURITY_HEADERS["cache-control"] == "no-store"
    assert "<script" not in refused_page("Invalid link", "no")
