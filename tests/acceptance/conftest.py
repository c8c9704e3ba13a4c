"""Print the acceptance journey's step times at the end of the run."""

from tests.processes import STEP_TIMES


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not STEP_TIMES:
        return
    terminalreporter.section("acceptance journey: wall time per step")
    for name, seconds in STEP_TIMES:
        terminalreporter.write_line(f"{seconds:8.2f} s  {name}")
    terminalreporter.write_line(f"{sum(s for _, s in STEP_TIMES):8.2f} s  total")
