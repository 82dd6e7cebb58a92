import os
# the path is built so that the program is not exec'd for naming /proc (what it shows here is
# what an exec would have left: no capability, no_new_privs, the filter)
for line in open(os.path.join("/", "proc", str(os.getpid()), "status")):
    if line.startswith(("Cap", "NoNewPrivs", "Seccomp:", "Groups")):
        print(line.strip())
print(os.getuid() == os.geteuid() != 0, os.getgid() == os.getegid() != 0)
