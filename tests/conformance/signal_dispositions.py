import signal
for name in ("SIGINT", "SIGPIPE", "SIGXFSZ", "SIGTERM", "SIGCHLD", "SIGHUP", "SIGUSR1"):
    print(name, signal.getsignal(getattr(signal, name)))
print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
