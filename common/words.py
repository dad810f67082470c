"""Counts in words: "1 finding", "2 findings", never "2 finding(s)"."""


def noun(number: int, singular: str) -> str:
    """The noun as that many of it reads: "column" for one, "columns" for any other number."""
    return singular if number == 1 else f"{singular}s"


def plural(number: int, singular: str) -> str:
    """'1 bad row', '2 bad rows', '1,204 bad rows'."""
    return f"{number:,} {noun(number, singular)}"
