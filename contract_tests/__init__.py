"""The contract test kit: checks a target (the mock in-process, a running mock, or a live vendor)
against what `schemas/<vendor>/` and each provider's `operations()` table document."""
