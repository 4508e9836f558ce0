"""Matching sequence names across the naming schemes toolkits use.

The same OTB target is ``Jogging-1`` (pysot), ``Jogging_1`` (pytracking), ``jogging-1`` (OTB
MATLAB), ``Jogging.1`` (got10k) or ``Jogging1`` (TC128); pytracking prefixes UAV123 tracks with
``uav_``. Names are compared, in order of preference: exactly; ignoring case; with ``-``, ``_``,
``.`` and spaces unified; with a known dataset prefix removed; by a target's other name
(OTB's ``Human4-2`` is plain ``Human4`` in pytracking and got10k); and finally with separators
dropped, only where that loose form is unique among the expected names. A separator between
two digits is never dropped: UAV123 has both ``car1_1`` and ``car11``, which must not match
each other even when only one of them is expected (a partial download or a subset).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[-_. ]+")
_KNOWN_PREFIXES = ("uav-", "otb-", "lasot-", "got10k-", "trackingnet-")
# Other names of one target (unified form -> canonical): OTB's Human4 is scored on its second
# ground-truth file, and pytracking and the got10k toolkit call that target plain ``Human4``.
_ALIASES = {"human4": "Human4-2"}


def unified(name: str) -> str:
    """Lower case with every run of separators replaced by one ``-``."""
    return _SEPARATORS.sub("-", name.strip().lower())


_DROPPABLE = re.compile(r"(?<!\d)-|-(?!\d)")  # any separator not between two digits


def _loose(name: str) -> str:
    """``Jogging-1`` -> ``jogging1``, but ``car1_1`` -> ``car1-1`` (never ``car11``)."""
    return _DROPPABLE.sub("", unified(name))


class NameMatcher:
    """Maps names found on disk to the expected (canonical) sequence names."""

    def __init__(self, expected: Iterable[str]) -> None:
        self.expected = list(expected)
        self._exact = set(self.expected)
        self._lower = _unique_index(self.expected, str.lower)
        self._unified = _unique_index(self.expected, unified)
        self._loose = _unique_index(self.expected, _loose)

    def match(self, found: str) -> str | None:
        """The expected name that ``found`` denotes, or None."""
        if found in self._exact:
            return found
        for index, key in ((self._lower, found.lower()), (self._unified, unified(found))):
            if key in index:
                return index[key]
        key = unified(found)
        for bare in (key, *(key[len(p) :] for p in _KNOWN_PREFIXES if key.startswith(p))):
            if bare != key and bare in self._unified:
                return self._unified[bare]
            if _ALIASES.get(bare) in self._exact:
                return _ALIASES[bare]
        return self._loose.get(_loose(found))

    def assign(self, found: Iterable[str]) -> dict[str, str]:
        """Map each expected name to one found name, preferring the closest spelling.

        When two found names denote the same sequence (``bike1.json`` and ``Bike1.json``), the
        one matched at the stricter level wins; equal levels keep the first in sorted order.
        """
        best: dict[str, tuple[int, str]] = {}
        for name in sorted(found):
            target = self.match(name)
            if target is None:
                continue
            level = _match_level(name, target)
            if target not in best or level < best[target][0]:
                best[target] = (level, name)
        return {target: name for target, (_, name) in best.items()}


def _match_level(found: str, target: str) -> int:
    if found == target:
        return 0
    if found.lower() == target.lower():
        return 1
    if unified(found) == unified(target):
        return 2
    return 3


def _unique_index(names: list[str], key) -> dict[str, str]:
    index: dict[str, str] = {}
    clashes: set[str] = set()
    for name in names:
        k = key(name)
        if k in index and index[k] != name:
            clashes.add(k)
        index[k] = name
    for k in clashes:
        del index[k]
    return index
