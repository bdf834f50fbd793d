"""Typosquat detection: recall on generated look-alikes of every popular name, and lookup cost.

For each ecosystem's popular list, every long name (>= 10 characters, where two edits are allowed)
is mutated once per shape — one substitution, a transposition, two substitutions, two insertions,
an insertion plus a substitution — with a fixed seed, and looked up; the share found is printed per
shape. Then random non-popular names (the usual case, a miss) are timed.

Usage: python bench/typosquat.py [--misses 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanners.packages.typosquat import MIN_LEN_DISTANCE_2, canonical, find_typosquat, popular_index

ECOSYSTEMS = ("npm", "pypi", "crate")


def mutated(name: str, shape: str, rng: random.Random) -> str:
    chars = list(name)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]

    def substitute() -> None:
        i = rng.choice(letters)
        chars[i] = rng.choice([c for c in string.ascii_lowercase if c != chars[i]])

    def insert() -> None:
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(string.ascii_lowercase))

    if shape == "1 substitution":
        substitute()
    elif shape == "transposition":
        i = rng.randrange(len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif shape == "2 substitutions":
        for i in rng.sample(letters, 2):
            chars[i] = rng.choice([c for c in string.ascii_lowercase if c != chars[i]])
    elif shape == "2 insertions":
        insert()
        insert()
    elif shape == "insertion + substitution":
        substitute()
        insert()
    return "".join(chars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shapes = ("1 substitution", "transposition", "2 substitutions", "2 insertions", "insertion + substitution")
    print(f"{'ecosystem':<9} {'shape':<26} found")
    for ecosystem in ECOSYSTEMS:
        index = popular_index(ecosystem)  # type: ignore[arg-type]
        long_names = [n for n in index.names if len(canonical(ecosystem, n)) >= MIN_LEN_DISTANCE_2 and not n.startswith("@")]  # type: ignore[arg-type]
        for shape in shapes:
            found = total = 0
            for name in long_names:
                candidate = mutated(name, shape, rng)
                if canonical(ecosystem, candidate) in index.by_canon:  # type: ignore[arg-type]
                    continue  # the mutation landed on another popular name
                total += 1
                found += find_typosquat(ecosystem, candidate) is not None  # type: ignore[arg-type]
            print(f"{ecosystem:<9} {shape:<26} {found}/{total} ({100 * found / max(total, 1):.1f}%)")
    misses = [f"{rng.choice(['acme', 'internal', 'my', 'team'])}-{''.join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 14)))}"
              for _ in range(args.misses)]
    for ecosystem in ECOSYSTEMS:
        popular_index(ecosystem)  # type: ignore[arg-type]  # built once per process, outside the timing
        start = time.perf_counter()
        flagged = sum(find_typosquat(ecosystem, name) is not None for name in misses)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
        print(f"{ecosystem}: {len(misses) / elapsed:,.0f} lookups/s ({elapsed / len(misses) * 1e6:.0f} µs each) over random names; "
              f"{flagged} flagged")


if __name__ == "__main__":
    main()
