"""Content negotiation of the table routes: JSON unless the Accept header prefers CSV, by HTTP's rules."""

from __future__ import annotations

import pytest

from api.frames import prefers_csv


@pytest.mark.parametrize(
    ("accept", "csv_expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("text/csv", True),
        ("TEXT/CSV", True),
        ("Text/Csv; Charset=UTF-8", True),
        ("text/*", True),
        ("application/json", False),
        ("application/json, text/csv", False),  # a tie: JSON
        ("text/csv, application/json", False),
        ("text/csv;q=0.5, application/json", False),
        ("text/csv, */*", True),  # the more specific range wins a tie of qualities
        ("text/csv;Q=1, application/json;Q=0.5", True),
        ("text/csv ; q=1 , application/json ; q=0.5", True),
        ("application/json;q=0, */*", True),  # q=0: JSON is not acceptable
        ("text/csv;q=0.9, application/json;q=0.1, */*", True),  # each offer's quality is its most specific range's
        ("*/*;q=0.1, text/csv;q=0", False),
        ("text/csv;q=0", False),
        ("text/csv;q=0.001", True),
        ("text/csv;q=2", False),  # not a quality: the range is malformed
        ("text/csv;q=nan", False),
        ("text/csv;q=abc, application/json;q=0.5", False),
        ("text/html, application/xhtml+xml", False),
        ("text/csv;q=0.5, text/*;q=1, application/json;q=0.8", False),
        ("csv", False),
    ],
)
def test_csv_is_sent_only_when_the_accept_header_prefers_it(accept, csv_expected):
    assert prefers_csv(accept) is csv_expected


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_every_negotiated_answer_says_it_varies_with_accept(client, analyst, priced, accept):
    headers = analyst.headers | {"Accept": accept}
    for path in (f"/v1/prices/{priced}", f"/v1/indicators/{priced}", "/v1/ledger"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith(accept), path
        assert "accept" in [part.strip().lower() for part in response.headers.get("vary", "").split(",")], path
