"""Identity fields: the Faker peer's fields, made the way linkaudit makes them.

Times linkaudit making, for ``people`` people, exactly the fields of
:mod:`benchmarks.faker_peer` (first name, last name, date of birth, street address,
postcode) with the functions population generation uses:
:func:`simulator.identity.sample_names` and :func:`simulator.identity.names`,
:func:`simulator.population.dates_of_birth`, :func:`simulator.identity.street_names`,
:func:`simulator.identity.addresses` and :func:`simulator.identity.postcodes`. Every
field ends as a column of values (Arrow strings; ``datetime64`` dates), as the Faker
peer ends with Python objects.

What those functions take from the rest of the population (each person's ethnic
group, sex, age, small area and address within it) is drawn here with numpy, inside
the timed region. Loading the name lists from Faker's locale modules happens once per
process and is warmed up first, as the peer builds its providers before its loop.
"""

from __future__ import annotations

import time

import numpy as np

FIELDS = ("first_name", "last_name", "date_of_birth", "street_address", "postcode")


def make(people: int, seed: int = 0) -> dict:
    """The five identity fields of ``people`` people, as linkaudit makes them."""
    from simulator import identity
    from simulator.population import dates_of_birth
    from simulator.scenario import ETHNICITIES, PopulationConfig, TimeConfig

    pop, ref = PopulationConfig(), TimeConfig().reference_date
    rng = np.random.default_rng(seed)
    shares = pop.ethnicity.normalised()
    groups = list(identity.NAME_LOCALES)
    p = np.array([shares[g] for g in ETHNICITIES])
    ethnicity = np.array([groups.index(g) for g in ETHNICITIES])[
        np.minimum(np.searchsorted(np.cumsum(p), rng.random(people)), len(p) - 1)
    ]
    female = rng.random(people) < 0.5
    age = rng.integers(0, 80, people)
    per_area = pop.households_per_area
    n_areas = max(1, -(-people // (per_area * 3)))
    area = rng.integers(0, n_areas, people)
    slot = rng.integers(0, per_area, people)

    kinds = identity.NAME_KINDS
    first = identity.sample_names(
        ethnicity,
        np.where(female, kinds.index("female"), kinds.index("male")),
        rng.random(people),
    )
    last = identity.sample_names(ethnicity, kinds.index("last"), rng.random(people))
    streets = identity.street_names(n_areas, rng)
    return {
        "first_name": identity.names(first),
        "last_name": identity.names(last),
        "date_of_birth": dates_of_birth(ref, age, rng.random(people)),
        "street_address": identity.addresses(
            area, slot, streets, np.zeros(people, bool)
        ),
        "postcode": identity.postcodes(area, slot),
    }


def run(people: int = 1_000_000, seed: int = 0, repeat: int = 3) -> dict:
    """Time :func:`make` for ``people`` people; the fastest of ``repeat`` runs."""
    make(1_000, seed)  # load the name lists (as the peer builds its providers)
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fields = make(people, seed)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert tuple(fields) == FIELDS
        assert all(len(v) == people for v in fields.values())
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
