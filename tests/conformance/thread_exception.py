import threading


def fail():
    raise ValueError("in a thread")


t = threading.Thread(target=fail, name="worker-1")
t.start()
t.join()
print("main goes on")
