"""CPU-sized pools follow IDV_CPU_WORKERS, or the cores the process may really use."""

from __future__ import annotations

from pathlib import Path

from service.settings import available_cpus, load_settings
from tests.conftest import environment_for_tests


def test_cpu_workers_default_to_the_available_cores_and_size_the_hashers(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path))
    assert settings.cpu_workers == available_cpus() >= 1
    assert settings.hash_concurrency == settings.cpu_workers


def test_cpu_workers_can_be_set(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path, IDV_CPU_WORKERS="3"))
    assert settings.cpu_workers == 3
    assert settings.hash_concurrency == 3
