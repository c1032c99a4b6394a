"""Calibration by sequential ABC (ABC-SMC, pyabc): priors file, simulator and distance, run, posterior checks.

Modules: :mod:`~sim.calibration.priors` (the calibration file),
:mod:`~sim.calibration.model` (scenario at a parameter set, summaries, distance),
:mod:`~sim.calibration.smc` (the resumable, seeded run and its SQLite history),
:mod:`~sim.calibration.predictive` (posterior predictive check) and
:mod:`~sim.calibration.figures`. The rejection ABC of the sweeps stays in
:mod:`sim.sweep.calibrate`.
"""
