"""The peer for generation: one Faker call per field per row.

Generates the truth's core identity fields for ``people`` people the naive way
(Faker ``en_GB``: first name, last name, date of birth, street address, postcode),
one call per field per person, kept in Python lists. The linkaudit side of the
comparison, the same fields for many people, is :mod:`benchmarks.identity`.
"""

from __future__ import annotations

import time

FIELDS = ("first_name", "last_name", "date_of_birth", "street_address", "postcode")


def run(people: int = 20_000, seed: int = 0, repeat: int = 3) -> dict:
    """Time ``people`` rows of per-field Faker calls; the fastest of ``repeat`` runs."""
    from faker import Faker

    fake = Faker("en_GB")
    Faker.seed(seed)
    fake.first_name()  # build the provider proxies outside the timed loop
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
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
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert len(rows) == people
    wall = min(walls)
    return {
        "people": people,
        "fields": list(FIELDS),
        "repeat": repeat,
        "wall_s": wall,
        "walls_s": walls,
        "cpu_s": cpus[walls.index(wall)],
        "s_per_person": wall / people,
        "people_per_s": people / wall,
    }
