"""Comparing two PAT outputs field by field, with tolerances (what ``pat-diff`` reports).

Records are matched by kind and key (``match``), compared value by value (``values`` for
any record, ``tokens`` for a frame's token columns), and every difference is tallied per
field (``tally``); ``report`` turns the tally into PAT_DIFF records and the table.
"""
