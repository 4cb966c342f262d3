/* TEMPORARY stub until ir/ lands. */
#include "ir/ir.h"
#include <stdlib.h>
IrModule *ir_build(const Graph *g) { IrModule *m = calloc(1, sizeof *m); m->graph = g; return m; }
int64_t ir_arena_bytes(const IrModule *m) { return -1; }
void ir_print(FILE *out, const IrModule *m) { fputs("ir: not implemented yet\n", out); }
