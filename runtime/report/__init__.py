"""The run report (`RUN/report.html`, `RUN/report.md`) and its before/after figure."""
