"""What went wrong, in plain language, and the one next step that fixes it.

The words and next steps are tables in wizard/domain/problem_words.py; this
module looks a code up in them and translates what it finds.
"""

from dataclasses import dataclass

from flask_babel import gettext

from wizard.domain import problem_words
from wizard.domain.problem_words import Words
from wizard.status import Flow


@dataclass(frozen=True)
class Problem:
    """A failure as the customer reads it.

    The words are kept in English (the message ids) and translated when read, so
    a stored copy is English and every page shows the reader's language.
    """

    code: str
    heading_en: str
    text_en: str
    action: str

    @property
    def heading(self) -> str:
        """The heading in the reader's language."""
        return gettext(self.heading_en)

    @property
    def text(self) -> str:
        """The advice in the reader's language."""
        return gettext(self.text_en)


def words_for(code: str, flow: str = Flow.DEVICE) -> Words:
    """Return step 4's words for a code: its flow's, else both flows', else FALLBACK."""
    shared = problem_words.PROBLEMS.get(code, problem_words.FALLBACK)
    return problem_words.FLOW_PROBLEMS.get((code, flow), shared)


def problem_for(code: str, flow: str = Flow.DEVICE) -> Problem:
    """Return the plain-language problem for an error code."""
    words = words_for(code, flow)
    return Problem(code, words.heading, words.text, words.action)


def connection_problem(code: str, flow: str = Flow.DEVICE) -> Problem:
    """Return the problem for a saved connection, in its own words where step 4's
    would mislead (a refused refresh is not "that code", the person used none)."""
    words = problem_words.CONNECTION_PROBLEMS.get(code) or words_for(code, flow)
    return Problem(code, words.heading, words.text, words.action)


def waiting_note(code: str | None) -> str | None:
    """Return what to say while polling goes on after a passing failure."""
    note = problem_words.WAITING_NOTES.get(code or "")
    return gettext(note) if note else None
