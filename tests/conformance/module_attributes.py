import encodings
import io
import sys
print(sorted(k for k in vars(encodings) if not k.startswith("__")))
print(sorted(k for k in vars(sys) if not k.startswith("__")))
print(io.DEFAULT_BUFFER_SIZE, sys.getdefaultencoding(), sys.getfilesystemencoding())
