/*
 * output.c - output files that appear only when the whole run succeeded.
 *
 * Targets are checked before anything is created: a missing path or a
 * regular file is replaced; anything else (directory, symbolic link, FIFO,
 * device, socket) is refused, so a rename never turns a FIFO or /dev/null
 * into a regular file. Each output is written to a temporary with a short
 * name (`.convc-XXXXXX`, within NAME_MAX whatever the output's name) in the
 * output's directory, so rename() stays within one file system.
 *
 * Commit is all or nothing: every target that exists (but the last) is first
 * hard-linked to a backup name, then the temporaries are renamed in order;
 * if one fails, the outputs already renamed are put back (backup renamed
 * over them, or removed when there was none) and the error names the output
 * that failed. Signals are blocked during the commit, so it is never cut in
 * the middle.
 *
 * Signals: every signal whose default action ends the process (HUP, INT,
 * QUIT, ILL, TRAP, ABRT, BUS, FPE, USR1, SEGV, USR2, PIPE, ALRM, TERM,
 * STKFLT, XCPU, VTALRM, PROF, IO, PWR, SYS, the real-time signals) removes
 * every output's temporary, then ends the process with that signal's default
 * action; signals someone else already handles or ignores are left alone.
 * SIGXFSZ is ignored, so a write past `ulimit -f` fails with EFBIG and is
 * reported like a full disk. The handler only reads the table of outputs;
 * every change to it happens with signals blocked, and pool threads keep
 * asynchronous signals blocked, so the handler never sees a half-made entry.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

/* The outputs whose temporaries the handler removes. */
static RtOutFile *volatile live_outs;
static volatile int32_t live_n;

/* Faults raised by the faulting thread itself: blocking them is undefined. */
static const int synchronous_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};

static const int terminating_signals[] = {
    SIGHUP,  SIGINT,  SIGQUIT,   SIGILL,  SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2,
    SIGPIPE, SIGALRM, SIGTERM,   SIGXCPU, SIGVTALRM, SIGPROF, SIGSYS,
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
#ifdef SIGIO
    SIGIO,
#endif
#ifdef SIGPWR
    SIGPWR,
#endif
};

void rt_signals_block(sigset_t *old)
{
    sigset_t set;
    sigfillset(&set);
    for (size_t i = 0; i < sizeof synchronous_signals / sizeof *synchronous_signals; i++)
        sigdelset(&set, synchronous_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void rt_signals_restore(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Async-signal-safe: unlink, sigaction and raise only. */
static void on_signal(int sig)
{
    RtOutFile *outs = live_outs;
    for (int32_t i = 0; outs && i < live_n; i++)
        if (outs[i].tmp)
            unlink(outs[i].tmp);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* pending until the handler returns, then the default action */
}

/* Sets `handler` for sig unless someone else already handles or ignores it. */
static void take_signal(int sig, void (*handler)(int))
{
    struct sigaction old, sa = {.sa_handler = handler};
    sigfillset(&sa.sa_mask); /* one cleanup at a time */
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(sig, &sa, NULL);
}

static void install_handlers(void)
{
    static bool installed;
    if (installed)
        return;
    installed = true;
    for (size_t i = 0; i < sizeof terminating_signals / sizeof *terminating_signals; i++)
        take_signal(terminating_signals[i], on_signal);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        take_signal(sig, on_signal);
    take_signal(SIGXFSZ, SIG_IGN);
}

/* "is a directory", ... for a target that is neither missing nor regular. */
static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode) ? "is a directory" : S_ISLNK(mode) ? "is a symbolic link" : S_ISFIFO(mode) ? "is a FIFO"
         : S_ISCHR(mode) ? "is a character device" : S_ISBLK(mode) ? "is a block device"
         : S_ISSOCK(mode) ? "is a socket" : "is not a regular file";
}

/* 0 when path is missing (*exists = false) or a regular file; else an error. */
static int check_target(const char *path, bool *exists)
{
    const char *slash = strrchr(path, '/');
    if (!*(slash ? slash + 1 : path))
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': not a file name", path);
    struct stat st;
    *exists = lstat(path, &st) == 0;
    if (!*exists && errno != ENOENT)
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", path, strerror(errno));
    if (*exists && !S_ISREG(st.st_mode))
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s; only a missing path or a regular file is replaced",
                        path, kind_of(st.st_mode));
    return 0;
}

/* Where a path puts its file: its directory's (device, inode) and its last
 * component, so "y.npy", "./y.npy" and "link-to-here/y.npy" compare equal. */
typedef struct {
    dev_t dev;
    ino_t ino;
    const char *base;
    bool known; /* false when the directory cannot be reached (reported later) */
} Place;

static Place place_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    Place p = {.base = slash ? slash + 1 : path};
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = slash ? strndup(path, n ? n : 1) : NULL; /* "/y.npy" lives in "/" */
    struct stat st;
    if ((!slash || dir) && stat(slash ? dir : ".", &st) == 0)
        p = (Place){st.st_dev, st.st_ino, p.base, true};
    free(dir);
    return p;
}

/* Two outputs written to one file would leave only the last: refused. */
static int check_distinct(const char *const *paths, int32_t n)
{
    Place *places = calloc((size_t)n + 1, sizeof *places);
    if (!places)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    int rc = 0;
    for (int32_t i = 0; i < n && !rc; i++) {
        if (paths[i])
            places[i] = place_of(paths[i]);
        for (int32_t j = 0; j < i && !rc && places[i].known; j++)
            if (places[j].known && places[j].dev == places[i].dev && places[j].ino == places[i].ino &&
                !strcmp(places[j].base, places[i].base))
                rc = rt_error(RT_EXIT_USAGE, "outputs '%s' and '%s' are the same file", paths[j], paths[i]);
    }
    free(places);
    return rc;
}

/* "dir/name" -> "dir/.convc-XXXXXX" (a template for mkstemp) */
static char *temp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    size_t n = (size_t)dirlen + sizeof ".convc-XXXXXX";
    char *tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%.*s.convc-XXXXXX", dirlen, path);
    return tmp;
}

static int create_temp(RtOutFile *o)
{
    char *name = temp_name(o->path);
    if (!name)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    sigset_t old;
    rt_signals_block(&old);
    int fd = mkstemp(name);
    int e = errno;
    if (fd >= 0)
        o->tmp = name; /* published only once the file exists */
    rt_signals_restore(&old);
    if (fd < 0) {
        free(name);
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", o->path, strerror(e));
    }
    /* mkstemp creates the file 0600; give it the mode a plain fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    if (!(o->f = fdopen(fd, "wb"))) {
        close(fd);
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    }
    return 0;
}

int rt_outs_open(RtOutFile *outs, int32_t n, const char *const *paths)
{
    for (int32_t i = 0; i < n; i++) {
        outs[i] = (RtOutFile){.path = paths[i]};
        bool exists;
        int rc = paths[i] ? check_target(paths[i], &exists) : 0;
        if (rc)
            return rc;
    }
    int rc = check_distinct(paths, n);
    if (rc)
        return rc;
    sigset_t old;
    rt_signals_block(&old);
    install_handlers();
    live_outs = outs;
    live_n = n;
    rt_signals_restore(&old);
    for (int32_t i = 0; i < n; i++) {
        int rc = paths[i] ? create_temp(&outs[i]) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

int rt_out_write_error(const RtOutFile *o, int err)
{
    return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", o->path, strerror(err));
}

int rt_out_close(RtOutFile *o)
{
    bool failed = ferror(o->f);
    int e = EIO;
    if (fclose(o->f) != 0)
        failed = true, e = errno;
    o->f = NULL;
    return failed ? rt_out_write_error(o, e) : 0;
}

/* A hard link to what `path` holds now, under a fresh name beside it. */
static int make_backup(RtOutFile *o)
{
    char *name = temp_name(o->path);
    if (!name)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    int fd = mkstemp(name); /* a unique name, then the link takes its place */
    if (fd >= 0) {
        close(fd);
        unlink(name);
    }
    if (fd < 0 || link(o->path, name) != 0) {
        int e = errno;
        free(name);
        return rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': cannot keep the old file while replacing it: %s",
                        o->path, strerror(e));
    }
    o->backup = name;
    return 0;
}

/* Puts back what outs[0..k) held before they were renamed: the backup over
 * the new file, or no file where there was none. */
static void roll_back(RtOutFile *outs, int32_t k)
{
    for (int32_t j = 0; j < k; j++) {
        RtOutFile *o = &outs[j];
        if (o->tmp || !o->path)
            continue; /* not renamed, or not requested */
        if ((o->backup ? rename(o->backup, o->path) : unlink(o->path)) != 0)
            rt_error(RT_EXIT_OUTPUT, "cannot restore '%s' after the failure: %s%s%s", o->path, strerror(errno),
                     o->backup ? "; its old contents are in " : "", o->backup ? o->backup : "");
        free(o->backup); /* renamed back, or kept for the user */
        o->backup = NULL;
    }
}

static void drop_backups(RtOutFile *outs, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (outs[i].backup) {
            unlink(outs[i].backup);
            free(outs[i].backup);
            outs[i].backup = NULL;
        }
}

/* Backups of every existing target but the last, then the renames. */
static int commit_all(RtOutFile *outs, int32_t n)
{
    int32_t last = n - 1;
    while (last >= 0 && !outs[last].tmp)
        last--;
    for (int32_t i = 0; i < last; i++) {
        bool exists;
        int rc = outs[i].tmp ? check_target(outs[i].path, &exists) : 0;
        if (!rc && outs[i].tmp && exists)
            rc = make_backup(&outs[i]);
        if (rc)
            return rc;
    }
    for (int32_t i = 0; i <= last; i++) {
        bool exists;
        int rc = outs[i].tmp ? check_target(outs[i].path, &exists) : 0;
        if (!rc && outs[i].tmp && rename(outs[i].tmp, outs[i].path) != 0)
            rc = rt_error(RT_EXIT_OUTPUT, "cannot write output '%s': %s", outs[i].path, strerror(errno));
        if (rc) {
            roll_back(outs, i);
            return rc;
        }
        free(outs[i].tmp);
        outs[i].tmp = NULL;
    }
    return 0;
}

int rt_outs_commit(RtOutFile *outs, int32_t n)
{
    sigset_t old;
    rt_signals_block(&old);
    int rc = commit_all(outs, n);
    drop_backups(outs, n);
    rt_signals_restore(&old);
    return rc;
}

void rt_outs_discard(RtOutFile *outs, int32_t n)
{
    sigset_t old;
    rt_signals_block(&old);
    for (int32_t i = 0; i < n; i++) {
        RtOutFile *o = &outs[i];
        if (o->f)
            fclose(o->f);
        o->f = NULL;
        if (o->tmp) {
            unlink(o->tmp);
            free(o->tmp);
            o->tmp = NULL;
        }
    }
    if (live_outs == outs)
        live_outs = NULL, live_n = 0;
    rt_signals_restore(&old);
}
