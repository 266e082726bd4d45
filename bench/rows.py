"""The rows measured with wrk: each against its floor, interleaved round by round, and the
table of Kenoma's rows with their targets (README: The rows and their targets)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from seeding import Seeded
from seeding import quote
from servers import Pass
from servers import Server
from servers import wrk
from settings import ROUNDS
from settings import SECONDS
from settings import UNICODE_EMOJI
from settings import log

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Row:
    name: str
    server: str  # key of the server it runs against
    path: str
    floor: str | None = None  # the row whose same-round figure this one is compared with
    target: float | None = None  # minimum ratio to the floor
    p99_factor: float | None = None  # maximum p99 / the floor's p99
    bytes: bool = False  # compare bytes/s instead of requests/s
    writes: Callable[[int], Iterator[str]] | None = None  # request lines for pass n (writes)
    headers: dict[str, str] = field(default_factory=dict)
    passes: list[Pass] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    p99_ratios: list[float] = field(default_factory=list)
    p50_ratios: list[float] = field(default_factory=list)


def run_pass(row: Row, servers: dict[str, Server], seconds: float, workdir: Path, number: int) -> Pass:
    requests_file = None
    if row.writes is not None:
        requests_file = workdir / f"requests-{row.name.replace(' ', '_').replace('/', '_')}-{number}.txt"
        requests_file.write_text("\n".join(row.writes(number)) + "\n")
    return wrk(servers[row.server].port, row.path, seconds, headers=row.headers, requests_file=requests_file)


def measure(rows: list[Row], servers: dict[str, Server], workdir: Path, rounds: int) -> None:
    """Warm every row up once, then `rounds` rounds. In a round each floor runs before and after
    every row compared with it (F, R1, F, R2, F...), and a row's ratio is to the mean of the two
    floor passes around it: what else the machine is doing drifts less between neighbours."""
    for row in rows:
        run_pass(row, servers, 1, workdir, 0)
    floors = [row for row in rows if row.floor is None]
    for number in range(1, rounds + 1):
        log(f"round {number}/{rounds}")
        for floor in floors:
            before = run_pass(floor, servers, SECONDS, workdir, number)
            floor.passes.append(before)
            for row in (r for r in rows if r.floor == floor.name):
                mine = run_pass(row, servers, SECONDS, workdir, number)
                after = run_pass(floor, servers, SECONDS, workdir, number)
                row.passes.append(mine)
                floor.passes.append(after)
                if row.bytes:
                    value, base = mine.bytes_rate, (before.bytes_rate + after.bytes_rate) / 2
                else:
                    value, base = mine.rate, (before.rate + after.rate) / 2
                row.ratios.append(value / base if base else 0.0)
                floor_p99 = (before.p99_ms + after.p99_ms) / 2
                row.p99_ratios.append(mine.p99_ms / floor_p99 if floor_p99 else 0.0)
                floor_p50 = (before.p50_ms + after.p50_ms) / 2
                row.p50_ratios.append(mine.p50_ms / floor_p50 if floor_p50 else 0.0)
                before = after


def kenoma_rows(seeded: Seeded) -> list[Row]:
    """Kenoma's rows, each with the floor row it is compared with and its target."""
    auth = {"Authorization": f"Bearer {seeded.alice_token}"}
    reaction_names = [quote(e) for e in UNICODE_EMOJI] + [quote(f":{sc}:") for sc in seeded.shortcodes]
    # Not the first hundred: they carry the seeded reactions and make the measured home and
    # favourites pages, which must stay the same from round to round.
    targets = seeded.status_ids[100:]
    per_pass = len(targets) * len(reaction_names) // (ROUNDS + 1)

    def reaction_lines(number: int) -> Iterator[str]:
        for i in range(number * per_pass, (number + 1) * per_pass):
            status_id = targets[i % len(targets)]
            yield f"PUT /api/v1/pleroma/statuses/{status_id}/reactions/{reaction_names[i // len(targets)]}"

    def status_lines(number: int) -> Iterator[str]:
        for i in range(20_000):
            yield f"POST /api/v1/statuses status=bench+write+{number}-{i}+the+quick+brown+fox"

    return start_up_rows(seeded) + [
        Row("GET /api/v1/pleroma/emoji", "kenoma", "/api/v1/pleroma/emoji", "bare Flask", 0.70),
        Row(
            "GET .../statuses/:id/reactions",
            "kenoma",
            f"/api/v1/pleroma/statuses/{seeded.reacted_id}/reactions",
            "bare Flask",
            0.50,
            headers=auth,
        ),
        Row(
            "GET .../accounts/:id/favourites",
            "kenoma",
            seeded.favourites(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row(
            "GET /api/v1/timelines/home",
            "kenoma",
            seeded.home(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row(
            "GET /api/v1/notifications",
            "kenoma",
            seeded.notifications(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row(
            "GET .../accounts/:id/statuses",
            "kenoma",
            seeded.account_statuses(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row("PUT reaction", "kenoma", "/", "write floor", 0.30, writes=reaction_lines, headers=auth),
        Row(
            "favourite + unfavourite",
            "kenoma",
            "/",
            "write floor",
            0.30,
            writes=favourite_cycle_lines(seeded),
            headers=auth,
        ),
        Row(
            "POST /api/v1/statuses",
            "kenoma",
            "/",
            "write floor",
            0.25,
            writes=status_lines,
            headers={**auth, **FORM},
        ),
        Row(
            "GET pack archive",
            "kenoma",
            "/api/v1/pleroma/emoji/packs/archive?name=bench",
            "static zip",
            0.80,
            bytes=True,
        ),
    ]


def start_up_rows(seeded: Seeded) -> list[Row]:
    """What a client asks for when it starts (issue 19): the instance (anonymous, as clients ask
    before logging in), the caller, a status, and the relationships of a page of 40 accounts."""
    auth = {"Authorization": f"Bearer {seeded.alice_token}"}
    return [
        Row("GET /api/v1/instance", "kenoma", "/api/v1/instance", "bare Flask", 0.60),
        Row("GET /api/v2/instance", "kenoma", "/api/v2/instance", "bare Flask", 0.60),
        Row(
            "GET .../verify_credentials",
            "kenoma",
            "/api/v1/accounts/verify_credentials",
            "bare Flask",
            0.60,
            headers=auth,
        ),
        Row("GET /api/v1/statuses/:id", "kenoma", seeded.single_status, "bare Flask", 0.60, headers=auth),
        Row(
            "GET .../relationships (40)",
            "kenoma",
            seeded.relationships(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
    ]


def favourite_cycle_lines(seeded: Seeded) -> Callable[[int], Iterator[str]]:
    """alice favourites 50 of bob's statuses, then unfavourites them, and again: every request
    changes a row, each favourite is undone long before it comes round again (8 in flight), and
    each status ends unfavourited. Both halves count: the rate is of requests."""
    targets = seeded.cycle_targets

    def lines(number: int) -> Iterator[str]:
        block = 50
        for start in range(0, 20_000, 2 * block):
            chosen = [targets[(start // 2 + i) % len(targets)] for i in range(block)]
            for action in ("favourite", "unfavourite"):
                for status_id in chosen:
                    yield f"POST /api/v1/statuses/{status_id}/{action}"

    return lines


def growth_mode_rows(seeded: Seeded) -> list[Row]:
    """GROWTH mode: home and favourites again, on the same pages, between bare-Flask passes."""
    auth = {"Authorization": f"Bearer {seeded.alice_token}"}
    return [
        Row("bare Flask", "flask", "/json"),
        Row("home @ growth", "kenoma", seeded.home(), "bare Flask", headers=auth),
        Row("favourites @ growth", "kenoma", seeded.favourites(), "bare Flask", headers=auth),
    ]
