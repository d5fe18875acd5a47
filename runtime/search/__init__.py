"""Multi-objective search over a spec's search space: strategies, journal, Pareto analysis, export."""
