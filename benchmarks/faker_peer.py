"""The peer for generation: one Faker call per field per row.

Generates the truth's core identity fields for ``people`` people the naive way
(Faker ``en_GB``: first name, last name, date of birth, street address, postcode),
one call per field per person, kept in Python lists.
"""

from __future__ import annotations

import time

FIELDS = ("first_name", "last_name", "date_of_birth", "street_address", "postcode")


def run(people: int = 20_000, seed: int = 0) -> dict:
    """Time ``people`` rows of per-field Faker calls."""
    from faker import Faker

    fake = Faker("en_GB")
    Faker.seed(seed)
    fake.first_name()  # build the provider proxies outside the timed loop
    start = time.perf_counter()
    rows = [
        (
            fake.first_name(),
            fake.last_name(),
            fake.date_of_birth(),
            fake.street_address(),
            fake.postcode(),
        )
        for _ in range(people)
    ]
    wall = time.perf_counter() - start
    assert len(rows) == people
    return {
        "people": people,
        "fields": list(FIELDS),
        "wall_s": wall,
        "s_per_person": wall / people,
        "people_per_s": people / wall,
    }
