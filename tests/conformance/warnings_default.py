import warnings
warnings.warn("a user warning")
warnings.warn("deprecated in __main__", DeprecationWarning)
warnings.warn("hidden", PendingDeprecationWarning)


def helper():
    warnings.warn("from a function", RuntimeWarning)


helper()
helper()
print(warnings.filters[:3])
