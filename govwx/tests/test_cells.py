from govwx.lib.cells import safe_cell, safe_row


def test_text_a_spreadsheet_would_run_is_neutralised() -> None:
    assert safe_cell('=HYPERLINK("http://x","点击")') == '\'=HYPERLINK("http://x","点击")'
    for text in ("+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text


def test_everything_else_passes_unchanged() -> None:
    assert safe_row(["小区路灯坏了", 42, -3, 1.5, None, "", "a=b"]) == [
        "小区路灯坏了", 42, -3, 1.5, None, "", "a=b",
    ]  # fmt: skip
