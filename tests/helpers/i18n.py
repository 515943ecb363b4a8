"""English left on a page that should be in Spanish."""

import html
import re

# Words and phrases that only appear in Spanish pages when something was missed.
ENGLISH_ONLY = (
    "Continue",
    "Back",
    "Step ",
    " your ",
    "Your ",
    " the ",
    "The ",
    " and ",
    " you ",
    " with ",
    " not ",
    "Sign in",
    "Sign out",
    "There is a problem",
    "Click ",
    "Integrations",
    "Authorize",
    "Actions",
    "Delete",
    "Disconnect",
    "Copy ",
    "Check ",
    "Change ",
    "Get ",
    "minutes",
    "Nothing",
    "Never",
    "Search",
    "support reference",
)
# Constant Contact's own screen labels, which stay in English on purpose.
CONSTANT_CONTACT_WORDS = (
    "Follow the instructions on your device for next steps",
    "Generate Client Secret",
    "Lists and segments",
    "Refresh Token Type",
    "Application name",
    "My Applications",
    "New Application",
    "Campaign Creator",
)


def visible_text(page: str) -> str:
    """Return what a person sees or hears: text and labels, without code samples."""
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S | re.I)
    labels = re.findall(r'(?:aria-label|alt|title|placeholder)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *labels]))


def english_left(page: str, *data: str) -> list[str]:
    """Return the English-only words on a page, ignoring data and Constant Contact's."""
    text = visible_text(page)
    for allowed in (*CONSTANT_CONTACT_WORDS, *data, "PromoPulse"):
        text = text.replace(allowed, " ")
    text = re.sub(r"\s+", " ", text)
    return [word for word in ENGLISH_ONLY if word in text]
