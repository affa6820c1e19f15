"""pybbolt's performance instrument: ``make bench`` runs :mod:`benchmarks.run`."""
