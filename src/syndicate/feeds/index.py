"""index.html: every feed listed, with autodiscovery links in <head>."""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment

from syndicate.content import strip_control
from syndicate.feeds.options import FeedLink

_TEMPLATE = Environment(autoescape=True, keep_trailing_newline=True).from_string(
    """\
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} — feeds</title>
{% for feed in feeds -%}
<link rel="alternate" type="{{ feed.media_type }}" href="{{ feed.href }}" title="{{ feed.title }}">
{% endfor -%}
<style>
body { font: 1rem/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; background: #fff; }
h1 { font-size: 1.5rem; }
ul { padding-left: 1.2rem; }
li { margin: .3rem 0; }
.type { color: #666; font-size: .85em; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>Subscribe in your feed reader:</p>
<ul>
{% for feed in feeds -%}
<li><a href="{{ feed.href }}">{{ feed.title }}</a>
  <span class="type">{{ feed.media_type }}</span></li>
{% endfor -%}
</ul>
</body>
</html>
"""
)


def index_html(site_title: str, entries: Sequence[FeedLink]) -> bytes:
    """The feed index page; every value is escaped, control characters are dropped."""
    feeds = [
        FeedLink(strip_control(e.title), strip_control(e.href), strip_control(e.media_type))
        for e in entries
    ]
    return _TEMPLATE.render(title=strip_control(site_title), feeds=feeds).encode("utf-8")
