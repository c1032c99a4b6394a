"""convsim: a policy simulator for the conversion of research results in Suizhou (随州).

The package is laid out by job: ``params``/``scenario``/``table`` (inputs),
``rng``/``streams``/``rules`` (the model's rulebook), ``engines`` (the SimPy
reference engine and the compiled fast engine), ``experiment`` (replications,
Parquet output), ``budget`` (scenario families), ``analysis`` (KPIs, paired
comparison, report) and ``cli`` (the ``convsim`` command).
"""

from sim._cache import configure as _configure_cache

__version__ = "0.1.0"
NUMBA_CACHE = _configure_cache()
