"""Reports for councils and agencies: local spend, unmet need, the matching funnel, prompt
payment and fairness of work. Each is aggregated in SQL from the live tables (never a copy)
and comes as JSON, CSV and a chart (PNG/SVG)."""
