"""The benchmark harness: ``dicomframes bench`` (the user's files against the installed
peers) and the building blocks of ``benchmarks/`` (the project's reports and
pytest-benchmark tests).

* ``inputs``: ``Input`` (what one benchmark decodes), made by ``make_input``; the default set;
* ``peers``: the one registry of decoders (``PEERS``), each case made by ``case``;
* ``cases``: how each library does each job;
* ``timing``: the one interleaved timer with a time budget;
* ``report``: the markdown writer, ``versions()``;
* ``cli``: ``run``, the command.

MB is 10^6 bytes everywhere.  Peers are optional and imported lazily: a missing one is
skipped with the reason.
"""

from __future__ import annotations

from .cli import run
from .inputs import MB, Input, Skip, default_files, group, make_input
from .peers import PEERS, Peer, case
from .report import versions
from .timing import Progress, Timing, compare, interleaved

__all__ = ["MB", "PEERS", "Input", "Peer", "Progress", "Skip", "Timing", "case", "compare",
           "default_files", "group", "interleaved", "make_input", "run", "versions"]
