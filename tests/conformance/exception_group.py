def fail():
    raise ExceptionGroup("several", [ValueError(1), TypeError("two"), ExceptionGroup("inner", [KeyError(3)])])


fail()
