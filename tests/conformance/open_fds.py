import os
import stat
print(sorted(os.listdir("/dev/fd")))
for fd in range(10):
    try:
        mode = os.fstat(fd).st_mode
        print(fd, stat.S_ISFIFO(mode), os.get_inheritable(fd), os.get_blocking(fd))
    except OSError as exc:
        print(fd, exc.errno)
