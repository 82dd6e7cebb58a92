import threading
import time

turns = [threading.Event() for _ in range(4)]


def work(n):
    turns[n].wait()
    time.sleep(0.05)
    print("worker", n, "done", flush=True)
    turns[n + 1].set()


for n in range(3):
    threading.Thread(target=work, args=(n,)).start()
print("main thread ends first, its workers still waiting", flush=True)
turns[0].set()
