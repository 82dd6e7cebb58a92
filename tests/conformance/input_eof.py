print("waiting for a line that never comes")
input()
