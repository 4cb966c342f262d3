/*
 * driver.h - what the driver's files share (driver/main.c is the command line).
 */
#ifndef CONVC_DRIVER_H
#define CONVC_DRIVER_H

#include "frontend/frontend.h"

/* Reads a `./net --bench N --profile=json` file of network g and returns the
 * measured median ms per layer of g (g->nlayers entries, -1 where no step
 * names the layer). A step named "a+b+c" (layers fused into one step) is
 * charged to the first of its names that is a layer of g. NULL, with one
 * line on stderr, if the file cannot be read (*code = 3) or is not such a
 * profile of g (*code = 2). driver/profile.c */
double *drv_read_profile(const char *path, const Graph *g, int *code);

#endif
