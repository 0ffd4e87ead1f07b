"""Suite-wide rule: a skipped test fails the run, unless it needs CUDA and there is none.

Oracle tests (gensim, sacrebleu, torch.nn, ...) must never pass by skipping: a missing
reference library is an installation error, not a reason to check less. The only tests
allowed to skip are those marked ``skipif(..., reason="needs CUDA...")``.
"""

from __future__ import annotations

import pytest

ALLOWED_SKIP_REASON = "needs CUDA"

_forbidden_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)  # a whole module skipped, e.g. by pytest.importorskip at its top


def _note_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not reason.removeprefix("Skipped: ").startswith(ALLOWED_SKIP_REASON):
            _forbidden_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _forbidden_skips and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _forbidden_skips:
        terminalreporter.section("skipped tests that must not skip (only CUDA-only tests may)", red=True)
        for line in _forbidden_skips:
            terminalreporter.line(line)
