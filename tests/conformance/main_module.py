"""A docstring of its own."""
import sys
print(__name__, __file__, __doc__, __package__, __spec__, __cached__)
print(type(__loader__).__name__, __loader__.name, __loader__.path, __builtins__)
print(list(globals()))
print(sys.argv, sys.orig_argv, sys.executable)
print(sys.modules["__main__"] is __import__("__main__"), sys.modules[__name__].__dict__ is globals())
