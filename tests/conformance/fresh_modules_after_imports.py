import sys
before = set(sys.modules)
import collections, json, os, random, re, tempfile  # noqa: E401
print(sorted(set(sys.modules) - before))
print(os.path.__name__, hasattr(os, "_exit"), "encodings.idna" in sys.modules)
