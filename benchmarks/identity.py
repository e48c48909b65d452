"""Identity fields: the Faker peer's fields, made the way linkaudit makes them.

Times linkaudit making, for ``people`` people, exactly the fields of
:mod:`benchmarks.faker_peer` (first name, last name, date of birth, street address,
postcode) with the functions population generation uses:
:func:`simulator.world.identity.sample_names` and
:func:`simulator.world.identity.names`,
:func:`simulator.world.population.dates_of_birth`,
:func:`simulator.world.identity.street_names`,
:func:`simulator.world.identity.addresses` and
:func:`simulator.world.identity.postcodes`. Every
field ends as a column of values (Arrow strings; ``datetime64`` dates), as the Faker
peer ends with Python objects.

What those functions take from the rest of the population (each family's ethnic
group, small area and address within it; each person's sex and age) is drawn here
with numpy, inside the timed region. Loading the name lists from Faker's locale
modules happens once per process and is warmed up first, as the peer builds its
providers before its loop.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

FIELDS = ("first_name", "last_name", "date_of_birth", "street_address", "postcode")
PEOPLE_PER_HOUSEHOLD = 3.5
"""About the baseline scenario's mean family size."""


def make(people: int, seed: int = 0) -> dict:
    """The five identity fields of ``people`` people, as linkaudit makes them.

    As in population generation, addresses and postcodes are made per household
    (families of 3.5 people on average, 170 to a small area) and taken by each
    member; names and dates of birth are made per person.
    """
    from simulator.schema.population import PopulationConfig, TimeConfig
    from simulator.vocabulary import ETHNICITIES
    from simulator.world import identity
    from simulator.world.population import dates_of_birth

    pop, ref = PopulationConfig(), TimeConfig().reference_date
    rng = np.random.default_rng(seed)
    n_households = max(1, round(people / PEOPLE_PER_HOUSEHOLD))
    n_areas = -(-n_households // pop.households_per_area)
    household = np.arange(people) * n_households // people  # members are adjacent
    hid = np.arange(n_households)
    area = hid * n_areas // n_households
    first_in_area = (np.arange(n_areas) * n_households + n_areas - 1) // n_areas
    slot = hid - first_in_area[area]
    shares = pop.ethnicity.normalised()
    groups = list(identity.NAME_LOCALES)
    p = np.cumsum([shares[g] for g in ETHNICITIES])
    group = np.minimum(np.searchsorted(p, rng.random(n_households)), len(p) - 1)
    ethnicity = np.array([groups.index(g) for g in ETHNICITIES])[group][household]
    female = rng.random(people) < 0.5
    age = rng.integers(0, 80, people)

    kinds = identity.NAME_KINDS
    first = identity.sample_names(
        ethnicity,
        np.where(female, kinds.index("female"), kinds.index("male")),
        rng.random(people),
    )
    last = identity.sample_names(ethnicity, kinds.index("last"), rng.random(people))
    streets = identity.street_names(n_areas, rng)
    home = identity.addresses(area, slot, streets, np.zeros(n_households, bool))
    members = pa.array(household)
    return {
        "first_name": identity.names(first),
        "last_name": identity.names(last),
        "date_of_birth": dates_of_birth(ref, age, rng.random(people)),
        "street_address": home.take(members),
        "postcode": identity.postcodes(area, slot).take(members),
    }


def run(people: int = 1_000_000, seed: int = 0, repeat: int = 5) -> dict:
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
