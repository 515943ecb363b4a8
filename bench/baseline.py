"""The limit for any Flask page here: a bare Flask app rendering a page of a given size.

Served by the same gunicorn settings as the wizard, so the ratio measures the wizard's
own work (sessions, database, its templates), nothing else.
"""

from functools import lru_cache

from flask import Flask
from flask import jsonify
from flask import render_template_string

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
%s
</main></body></html>
"""


@lru_cache(maxsize=64)
def template_of(size: int) -> str:
    """Return a template that renders to `size` bytes: a page of plain paragraphs."""
    filler = "<p>Plain words, as a page's text has.</p>\n"
    shell = len((PAGE % "").replace("{{ title }}", "Page"))
    body = (filler * (size // len(filler) + 1))[: max(0, size - shell)]
    return PAGE % body


@app.get("/page/<int:size>")
def page(size: int) -> str:
    """Render a page of `size` bytes from a template, as any Flask page does."""
    return render_template_string(template_of(size), title="Page")


@app.get("/json/<int:size>")
def json_page(size: int) -> object:
    """Answer JSON of about `size` bytes, as the status poll does."""
    return jsonify(state="waiting", seconds_left=240, note="x" * max(0, size - 60))
