import os
import signal


def handler(signum, frame):
    print("got", signal.Signals(signum).name, frame.f_code.co_name if False else "")


signal.signal(signal.SIGUSR1, handler)
os.kill(os.getpid(), signal.SIGUSR1)
print("after the handler")
