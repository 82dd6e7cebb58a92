import atexit


def show():
    print("at exit:", globals().get("__file__"), globals().get("__cached__", "no cached"))


atexit.register(show)
print("during:", __file__)
