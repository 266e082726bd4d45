"""The table the run prints: the wrk rows as medians over the rounds with their ratios and
targets, then the checks that are not wrk rows, then the notes."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from probes import ImportResult
from rows import Row
from settings import CONNECTIONS
from settings import GROWTH
from settings import ROUNDS
from settings import SECONDS
from settings import STATUSES


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def wrk_row_line(row: Row) -> tuple[list[str], bool | None]:
    rate = median([p.bytes_rate / 1e6 if row.bytes else p.rate for p in row.passes])
    p50 = median([p.p50_ms for p in row.passes])
    p99 = median([p.p99_ms for p in row.passes])
    non_2xx = sum(p.non_2xx + p.errors for p in row.passes)
    ratio = median(row.ratios) if row.ratios else None
    ok: bool | None = None
    target = ""
    if row.target is not None and ratio is not None:
        ok = ratio >= row.target
        target = f">= {row.target:.0%} of {row.floor}"
        if row.p99_factor is not None:
            p99_ratio = median(row.p99_ratios)
            ok = ok and p99_ratio <= row.p99_factor
            target += f"; p99 <= {row.p99_factor:g}x ({p99_ratio:.1f}x)"
        if row.writes is not None and row.floor == "write floor":
            ok = ok and non_2xx == 0
            target += "; zero non-2xx"
    unit = " MB/s" if row.bytes else ""
    rates = [p.bytes_rate / 1e6 if row.bytes else p.rate for p in row.passes]
    rate_range = (
        f"{min(rates):,.1f}-{max(rates):,.1f}" if row.bytes else f"{min(rates):,.0f}-{max(rates):,.0f}"
    )
    cells = [
        row.name,
        f"{rate:,.1f}{unit}" if row.bytes else fmt_rate(rate),
        rate_range,
        f"{p50:.2f}",
        f"{p99:.2f}",
        str(non_2xx),
        f"{ratio:.0%}" if ratio is not None else "floor",
        f"{min(row.ratios):.0%}-{max(row.ratios):.0%}" if row.ratios else "",
        target,
    ]
    return cells, ok


# Each run leaves its median ratios here, so a run on the other database prints them beside its
# own (issue 18: BENCH_DB=postgres, "the same rows, with their ratios beside the SQLite run's").
RESULTS = Path(__file__).resolve().parent / "results"


def save_ratios(database: str, wrk_rows: list[Row]) -> None:
    RESULTS.mkdir(exist_ok=True)
    ratios = {row.name: median(row.ratios) for row in wrk_rows if row.ratios}
    (RESULTS / f"{database}.json").write_text(json.dumps(ratios, indent=1) + "\n")


def saved_ratios(database: str) -> dict[str, float]:
    try:
        return json.loads((RESULTS / f"{database}.json").read_text())
    except (OSError, ValueError):
        return {}


def print_table(
    wrk_rows: list[Row],
    checks: list[tuple[str, str, str, bool | None]],
    notes: list[str],
    beside: tuple[str, dict[str, float]] | None = None,
) -> bool:
    """`beside`: another database's last ratios (its name, row -> median ratio), a column of
    their own."""
    header = [
        "row",
        "req/s",
        "min-max",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "ratio",
        "min-max",
        "target",
        "result",
    ]
    lines = []
    misses = 0
    for row in wrk_rows:
        cells, ok = wrk_row_line(row)
        cells.append("" if ok is None else ("ok" if ok else "MISS"))
        if beside is not None:
            other = beside[1].get(row.name)
            cells.append("" if other is None else f"{other:.0%}")
        misses += ok is False
        lines.append(cells)
    if beside is not None:
        header.append(f"ratio on {beside[0]} (its last run)")
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    rule = "+".join("-" * (w + 2) for w in widths)
    print()
    print(
        f"Kenoma bench: {ROUNDS} rounds of {SECONDS:g}s passes, each row between two passes of its floor; "
        f"wrk -t1 -c{CONNECTIONS}; gunicorn.conf.py (2 gthread workers x 4 threads); 127.0.0.1; "
        "medians over rounds, min-max beside them"
    )
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(rule)
    for line in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    print()
    name_width = max(len(c[0]) for c in checks)
    value_width = max(len(c[1]) for c in checks)
    for name, value, target, ok in checks:
        result = "" if ok is None else ("ok" if ok else "MISS")
        misses += ok is False
        print(f"{name.ljust(name_width)} | {value.ljust(value_width)} | {target} | {result}")
    print()
    for note in notes:
        print(f"note: {note}")
    print("all targets met" if not misses else f"{misses} target(s) missed")
    return misses == 0


# The most statements building each answer may run (the counting server keeps no answers,
# servers.py kenoma_env); pages must cost the same at limit 20 and 40. Pinned in tests/test_performance.py.
STATEMENT_LIMITS = {
    "reactions": 3,
    "emoji list": 1,
    "instance v1": 1,
    "instance v2": 1,
    "verify_credentials": 3,
    "status": 3,
    "relationships 40": 4,
    "favourite": 6,
    "unfavourite": 6,
}
PAGES = {"home": 6, "favourites": 6, "notifications": 7, "account statuses": 5}


def statement_checks(counts: dict[str, int]) -> list[tuple[str, str, str, bool | None]]:
    checks: list[tuple[str, str, str, bool | None]] = []
    for name, most in PAGES.items():
        pair = (counts[f"{name} limit=20"], counts[f"{name} limit=40"])
        checks.append(
            (
                f"SQL {name}",
                f"{pair[0]} (limit 20) / {pair[1]} (limit 40)",
                f"<= {most}, equal",
                max(pair) <= most and pair[0] == pair[1],
            )
        )
    for name, most in STATEMENT_LIMITS.items():
        checks.append((f"SQL {name}", str(counts[name]), f"<= {most}", counts[name] <= most))
    return checks


def import_checks(imported: ImportResult | None) -> list[tuple[str, str, str, bool | None]]:
    if imported is None:
        return [("follow import", "n/a: POST /api/v1/pleroma/follow_import is not served", "", None)]
    done = f"{imported.done_s:.2f}s" if imported.done_s is not None else "not done in 30s"
    reads_ok = imported.reads > 0 and imported.read_failures == 0
    return [
        ("follow import answer", f"{imported.answer_s:.3f}s", "<= 1 s", imported.answer_s <= 1),
        (
            "follow import done",
            f"{done} ({imported.follows:,} follows)",
            "<= 5 s",
            imported.done_s is not None and imported.done_s <= 5,
        ),
        (
            "reads meanwhile",
            f"{imported.reads} home pages, {imported.read_failures} failed, "
            f"p99 {imported.read_p99_ms:.0f} ms",
            "served throughout",
            reads_ok,
        ),
    ]


def memory_phase_checks(phases: list[tuple[str, float]]) -> list[tuple[str, str, str, bool | None]]:
    """A line per phase of the run: PSS of master + workers after it, and what it added."""
    checks: list[tuple[str, str, str, bool | None]] = []
    before = None
    for phase, pss in phases:
        added = "" if before is None else f" ({pss - before:+.0f})"
        checks.append((f"memory after {phase}", f"{pss:.0f} MB PSS{added}", "", None))
        before = pss
    return checks


def growth_checks(rows: list[Row], growth_rows: list[Row]) -> list[tuple[str, str, str, bool | None]]:
    """p50 with GROWTH statuses against p50 with 1,000 (the same 20 statuses, see Seeded.pin),
    as the target states it. The same comparison with each p50 taken as a multiple of the floor's
    p50 around it is shown too; it swings more, the floor's p50 being a queueing time of ~2 ms."""
    if not growth_rows:
        return [("growth", "n/a (run GROWTH=100000 make bench)", "p50 at 100k <= 1.5x p50 at 1k", None)]
    by_name = {row.name: row for row in rows + growth_rows}
    out = []
    for small, big in (
        ("GET /api/v1/timelines/home", "home @ growth"),
        ("GET .../accounts/:id/favourites", "favourites @ growth"),
    ):
        before, after = by_name[small], by_name[big]
        raw_small = median([p.p50_ms for p in before.passes])
        raw_big = median([p.p50_ms for p in after.passes])
        normalised = median(after.p50_ratios) / median(before.p50_ratios)
        out.append(
            (
                f"growth {big.split()[0]}",
                f"p50 {raw_small:.2f} ms at {STATUSES:,} -> {raw_big:.2f} ms at {GROWTH:,} ({raw_big / raw_small:.2f}x; "
                f"in floor p50s {normalised:.2f}x)",
                "<= 1.5x",
                raw_big <= 1.5 * raw_small,
            )
        )
    return out
