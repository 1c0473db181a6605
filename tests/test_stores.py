"""SQL lives in store modules, and each table has one store that writes it (issue 22).

A capability that needs another's table changed calls that table's store, so the rules for a row
(its states, what a change must also touch) are in one file.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "service"

# Modules allowed SQL outside a store, each with the reason; the tables they write are not
# counted against the one-writer rule.
NOT_STORES = {
    # Migrations, roles and the local cluster: DDL and catalogue queries, no capability's rows.
    "database/local.py": "the local cluster's own catalogue",
    "database/migrations.py": "DDL and the migrations ledger",
    "database/roles.py": "roles and grants",
    # The job runner's tables (pgqueuer's queue and the run log) and nothing else.
    "jobs/queue.py": "the job queue",
    "jobs/runs.py": "the job run log",
    # Being reworked by issue 22 part 1 (each capability erasing and minimizing its own data);
    # until then erasure, holds, retention and replay write other capabilities' tables.
    "lifecycle/holds.py": "issue 22.1 moves the legal hold into each capability",
    "lifecycle/ledger.py": "issue 22.1",
    "lifecycle/personal_data.py": "issue 22.1 moves each table's export and erasure to its capability",
    "lifecycle/replay.py": "issue 22.1",
    "lifecycle/retention.py": "issue 22.1 moves each retention rule to its capability",
}

_SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[\s\S]*\b(FROM|INTO|SET|WHERE|VALUES)\b")
_WRITES = (
    re.compile(r"\bINSERT\s+INTO\s+([a-z_][a-z0-9_]*)", re.IGNORECASE),
    re.compile(r"\bDELETE\s+FROM\s+([a-z_][a-z0-9_]*)", re.IGNORECASE),
    # ``UPDATE t SET`` and ``UPDATE t AS x SET``; not ``DO UPDATE SET`` nor ``FOR UPDATE OF``.
    re.compile(r"\bUPDATE\s+([a-z_][a-z0-9_]*)(?:\s+(?:AS\s+)?[a-z_]+)?\s+SET\b", re.IGNORECASE),
)
_NOT_TABLES = {"set", "of", "skip", "nowait"}


def _sql_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _SQL.search(node.value)
    ]


def _written_tables(sql: str) -> set[str]:
    tables = {match.group(1).lower() for pattern in _WRITES for match in pattern.finditer(sql)}
    return tables - _NOT_TABLES


def _modules() -> list[tuple[str, Path]]:
    return sorted((path.relative_to(SERVICE).as_posix(), path) for path in SERVICE.rglob("*.py"))


def test_the_scan_sees_writes() -> None:
    assert _written_tables("UPDATE accounts SET state = $2 WHERE id = $1") == {"accounts"}
    assert _written_tables("INSERT INTO t AS x (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2") == {"t"}
    assert _written_tables("WITH d AS (DELETE FROM a RETURNING id) SELECT 1 FROM b FOR UPDATE OF b SKIP LOCKED") == {
        "a"
    }
    sql = [sql for _, sql in _sql_strings(SERVICE / "accounts" / "store.py")]
    assert "accounts" in set().union(*map(_written_tables, sql))


def _personal_data_declaration(path: Path) -> bool:
    """A capability's manifest declares how its personal data is exported and erased
    (lifecycle.personal_data): SQL on its own tables, counted below as its store's writes."""
    return path.name == "capability.py"


def _writer(name: str) -> str:
    return name.removesuffix("capability.py") + "store.py" if name.endswith("/capability.py") else name


def test_sql_is_only_in_store_modules() -> None:
    outside = {
        f"{name}:{line}"
        for name, path in _modules()
        if path.name != "store.py" and name not in NOT_STORES
        for line, sql in _sql_strings(path)
        if not _personal_data_declaration(path)
    }
    assert not outside, f"SQL outside a store module: {sorted(outside)}"


def test_each_table_is_written_by_one_store() -> None:
    writers: dict[str, set[str]] = defaultdict(set)
    for name, path in _modules():
        if name in NOT_STORES:
            continue
        for _, sql in _sql_strings(path):
            for table in _written_tables(sql):
                writers[table].add(_writer(name))
    shared = {table: sorted(modules) for table, modules in writers.items() if len(modules) > 1}
    assert not shared, f"tables written by more than one store: {shared}"


def test_the_allow_list_names_modules_that_exist() -> None:
    assert {name for name in NOT_STORES if not (SERVICE / name).is_file()} == set()
