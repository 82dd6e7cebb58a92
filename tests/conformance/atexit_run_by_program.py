import atexit

atexit.register(print, "registered callback")
atexit._run_exitfuncs()
print("still running after running the callbacks")
atexit.register(print, "registered again")
