/* The kernel's share of one sandboxed run, with no Python and no program: what the subprocess
 * sandbox's protections cost on this host at the least (see protection_floor.py).
 *
 * Each round, as the jail does: a cgroup per run in each hierarchy (memory and pids limits),
 * a fork that unshares mount, PID, network, IPC, UTS and cgroup namespaces, an init (PID 1)
 * that joins the cgroup and builds a minimal root (tmpfs root, pivot_root, read-only binds of
 * the system directories, proc, a /dev of six bound nodes and a devpts, a size-limited /tmp,
 * the host's root detached), then a program process that drops to an unprivileged uid with
 * no_new_privs and exits at once; the init reaps it, and the cgroup is removed.
 *
 *   protection_floor ROUNDS TAG [CGROUP_PARENT...]
 * makes the round's cgroup in each parent directory given (one per v1 hierarchy, or v2's one;
 * none: no cgroup), and prints "<ms per round> <rounds per second>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONTROLLERS 8

static void fail(const char *what) { perror(what); _exit(1); }

static void put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) fail(path);
    close(fd);
}

static void bind_read_only(const char *source, const char *target) {
    struct stat st;
    if (stat(source, &st) != 0) return;  /* a host without /lib64, say */
    if (S_ISDIR(st.st_mode)) mkdir(target, 0755);
    else close(open(target, O_CREAT | O_WRONLY, 0644));
    if (mount(source, target, NULL, MS_BIND | MS_REC, NULL)) fail(target);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
        fail("remount read-only");
}

static void minimal_root(void) {
    static const char *system[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64", NULL};
    static const char *devices[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
    char source[256], target[256];
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k")) fail("scaffold");
    if (chdir("/tmp")) fail("chdir");
    mkdir("oldroot", 0755);
    mkdir("newroot", 0755);
    if (syscall(SYS_pivot_root, ".", "oldroot")) fail("pivot_root");
    if (chdir("/")) fail("chdir");
    if (mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")) fail("root");
    mkdir("/newroot/tmp", 01777);
    if (mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m")) fail("tmp");
    for (int i = 0; system[i]; i++) {
        snprintf(source, sizeof source, "/oldroot%s", system[i]);
        snprintf(target, sizeof target, "/newroot%s", system[i]);
        bind_read_only(source, target);
    }
    mkdir("/newroot/proc", 0555);
    if (mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
        fail("proc");
    mkdir("/newroot/dev", 0755);
    if (mount("tmpfs", "/newroot/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=16k")) fail("dev");
    for (int i = 0; devices[i]; i++) {
        snprintf(source, sizeof source, "/oldroot/dev/%s", devices[i]);
        snprintf(target, sizeof target, "/newroot/dev/%s", devices[i]);
        close(open(target, O_CREAT | O_WRONLY, 0666));
        if (mount(source, target, NULL, MS_BIND, NULL)) fail(target);
    }
    mkdir("/newroot/dev/pts", 0755);
    if (mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance"))
        fail("devpts");
    if (mount(NULL, "/newroot", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
        fail("root read-only");
    if (chdir("/newroot") || syscall(SYS_pivot_root, ".", ".")) fail("pivot_root");
    if (umount2(".", MNT_DETACH)) fail("detach");
    if (chdir("/")) fail("chdir");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROUNDS TAG [CGROUP_PARENT...]\n", argv[0]);
        return 2;
    }
    int rounds = atoi(argv[1]), count = argc - 3;
    static char dirs[MAX_CONTROLLERS][1024], path[2048];
    struct timespec start, end;
    if (count > MAX_CONTROLLERS) return 2;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int round = 0; round < rounds; round++) {
        for (int c = 0; c < count; c++) {
            static const char *limits[][2] = {{"memory.limit_in_bytes", "268435456"},
                                              {"memory.max", "268435456"}, {"pids.max", "65"}};
            snprintf(dirs[c], sizeof dirs[c], "%s/floor-%s-%d", argv[3 + c], argv[2], round);
            if (mkdir(dirs[c], 0755)) fail(dirs[c]);
            for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof path, "%s/%s", dirs[c], limits[i][0]);
                if (!access(path, F_OK)) put(path, limits[i][1]);
            }
        }
        pid_t jail = fork();
        if (jail == 0) {
            if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                        | CLONE_NEWCGROUP)) fail("unshare");
            pid_t init = fork();
            if (init == 0) {
                for (int c = 0; c < count; c++) {
                    snprintf(path, sizeof path, "%s/cgroup.procs", dirs[c]);
                    put(path, "0");
                }
                minimal_root();
                pid_t program = fork();
                if (program == 0) {
                    struct rlimit limit = {64 << 20, 64 << 20};
                    setrlimit(RLIMIT_FSIZE, &limit);
                    if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) fail("uid");
                    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                    _exit(0);
                }
                waitpid(program, NULL, 0);
                _exit(0);
            }
            int status;
            waitpid(init, &status, 0);
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
        int status;
        waitpid(jail, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "round %d failed\n", round);
            return 1;
        }
        for (int c = 0; c < count; c++)
            while (rmdir(dirs[c]) && errno == EBUSY) usleep(50);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.3f %.1f\n", seconds * 1000 / rounds, rounds / seconds);
    return 0;
}
