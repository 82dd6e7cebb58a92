import threading
import time


def work(n):
    time.sleep(0.05 * n)
    print("worker", n, "done", flush=True)


for n in range(3):
    threading.Thread(target=work, args=(n,)).start()
print("main thread ends first", flush=True)
