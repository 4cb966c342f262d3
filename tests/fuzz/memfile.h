/*
 * memfile.h - for harnesses of loaders that take a path: the fuzz input is
 * written to one in-memory file (memfd) that is reused for every input, and
 * its /proc/self/fd path is returned. Nothing touches the disk.
 */
#ifndef CONVC_FUZZ_MEMFILE_H
#define CONVC_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replaces the memfd's contents with data[0..size); NULL on failure. */
static const char *fuzz_memfile(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        if (fd < 0)
            return NULL;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return NULL;
    return path;
}

#endif
