/*
 * output.c - output files that appear only when the whole run succeeded.
 *
 * Each output is written to a temporary created with mkstemp() next to its
 * final path (so rename() stays within one file system and is atomic), and
 * renamed only after every output was written and closed without error.
 * On any failure the temporaries are removed: no partial file is left.
 * SIGINT, SIGTERM and SIGHUP during a run remove them too, before the
 * signal's default action ends the process.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

enum { MAX_TRACKED = 64 };

/* The temporaries alive now, for the signal handler; only pointers are
 * published, each written before it is used and cleared before it is freed. */
static char *volatile tracked[MAX_TRACKED];

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i])
            unlink(tracked[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void track(char *tmp, bool on)
{
    static bool installed;
    if (!installed) {
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            struct sigaction sa = {.sa_handler = on_signal};
            sigemptyset(&sa.sa_mask);
            struct sigaction old;
            if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
                sigaction(sigs[i], &sa, NULL);
        }
        installed = true;
    }
    for (int i = 0; i < MAX_TRACKED; i++)
        if (on ? !tracked[i] : tracked[i] == tmp) {
            tracked[i] = on ? tmp : NULL;
            return;
        }
}

/* "dir/name" -> "dir/.name.XXXXXX" */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + sizeof ".XXXXXX" + 1;
    char *tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    return tmp;
}

int rt_out_open(RtOutFile *o, const char *path)
{
    o->path = path;
    o->f = NULL;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!*base)
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': not a file name", path);
    if (!(o->tmp = temp_template(path)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    track(o->tmp, true); /* before the file exists, so no signal can orphan it */
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        track(o->tmp, false);
        free(o->tmp);
        o->tmp = NULL;
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", path, strerror(e));
    }
    /* mkstemp creates the file 0600; give it the mode a plain fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    if (!(o->f = fdopen(fd, "wb"))) {
        close(fd);
        rt_out_discard(o);
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    }
    return 0;
}

int rt_out_close(RtOutFile *o)
{
    bool ok = !ferror(o->f);
    ok = fclose(o->f) == 0 && ok;
    o->f = NULL;
    if (!ok)
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", o->path, errno ? strerror(errno) : "write error");
    return 0;
}

int rt_out_commit(RtOutFile *o)
{
    if (rename(o->tmp, o->path) != 0)
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", o->path, strerror(errno));
    track(o->tmp, false);
    free(o->tmp);
    o->tmp = NULL;
    return 0;
}

void rt_out_discard(RtOutFile *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp) {
        track(o->tmp, false);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
}
