"""Historical sources and their backfills: Hacker News "Ask HN: Who is hiring?", one partition per month."""
