"""convsim: a policy simulator for the conversion of research results in Suizhou (随州).

The package is laid out by job: ``params``/``scenario``/``table`` (inputs),
``rng``/``streams``/``rules`` (the model's rulebook), ``engines`` (SimPy
reference engine), ``experiment`` (replications, Parquet output),
``analysis`` (KPIs) and ``cli`` (the ``convsim`` command).
"""

__version__ = "0.1.0"
