"""HN "Who is hiring?" threads are partitioned by month, from the first thread (April 2011).

Keys are ``YYYY-MM`` (``fmt``), the same string as the postings' ``board`` and the raw partition's
folder (``raw/hn/2019-11/``), so one month reads alike in the UI, on disk and in the store. Month
arithmetic: ``jobpipeline.lib.hn.months``.
"""

from __future__ import annotations

import dagster as dg

from jobpipeline.lib.hn.discovery import FIRST_MONTH

# end_offset=1: the current month is a partition too, while its thread is still growing.
hn_months = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m", end_offset=1, timezone="UTC")
