import atexit


def bye(name):
    print("bye", name)


atexit.register(bye, "first")
atexit.register(bye, "second")


@atexit.register
def boom():
    raise RuntimeError("in atexit")


print("main done")
