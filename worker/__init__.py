"""What runs executions: the worker that consumes the queue, runs each claimed execution in its
sandbox (compile step, test cases) and stores the outcome, and the housekeeping it owns
(recovering lost runs, re-sending lost messages, retention). The core defines what it runs
against (contracts, models, the service); this package is one of its three programs, beside
``api`` (serving) and ``console`` (watching)."""
