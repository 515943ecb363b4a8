"""A product process adding contacts from threads: `python -m tests.helpers.adder
INTEGRATION_ID FIRST COUNT THREADS`, the app configured by WIZARD_* variables.

Thread t adds contacts FIRST + t*COUNT ... and then its first five again (the same
people twice), and prints each answer; the exit code says whether all went in.
"""

import sys
import threading
from collections import Counter

from wizard import create_app
from wizard.domain import contacts
from wizard.models import Integration
from wizard.platform.extensions import db


def address(number: int) -> str:
    """Return the address of the contact with this number."""
    return f"person{number:04d}@shop{number % 7}.test"


def main() -> None:
    integration_id, first, count, threads = (int(arg) for arg in sys.argv[1:5])
    app = create_app()
    answers: Counter[str] = Counter()
    lock = threading.Lock()

    def add(start: int) -> None:
        numbers = list(range(start, start + count)) + list(range(start, start + 5))
        with app.app_context():
            for number in numbers:
                integration = db.session.get(Integration, integration_id)
                answer = contacts.add_contact(
                    integration, address(number), consent="signed up at the till"
                )
                with lock:
                    answers[answer] += 1
                db.session.remove()

    workers = [
        threading.Thread(target=add, args=(first + t * count,)) for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(dict(answers))


if __name__ == "__main__":
    main()
