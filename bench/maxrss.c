/*
 * maxrss.c - the peak RSS of one command, for `make bench` (bench/run.py).
 *
 *   maxrss COMMAND [ARG...]   ->   maxrss: kb=K status=S
 *
 * Runs COMMAND (its standard output to /dev/null), waits for it with
 * wait4() and prints its ru_maxrss (KiB) and exit status. Why not
 * os.wait4() in bench/run.py itself: Linux carries a process's peak RSS
 * over an execve() (exec_mmap records the old image's high-water mark), and
 * a child forked by the bench's Python, which holds PyTorch and every model,
 * starts as a copy of it, so its ru_maxrss would be at least the bench's
 * own. Forked from this small program, the command's ru_maxrss is its own.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* wait4 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: maxrss COMMAND [ARG...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("maxrss: fork");
        return 2;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execvp(argv[1], argv + 1);
        perror("maxrss: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("maxrss: wait4");
        return 2;
    }
    printf("maxrss: kb=%ld status=%d\n", ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
