/* TEMPORARY stub until codegen/ lands. */
#include "codegen/codegen.h"
#include <stdio.h>
bool cg_compile(const IrModule *m, const CgOptions *o, CgEmit what, const char *out) { fputs("convc: codegen not implemented yet\n", stderr); return false; }
