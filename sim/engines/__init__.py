"""Engines that run the rulebook: the SimPy reference engine (``reference``)."""
