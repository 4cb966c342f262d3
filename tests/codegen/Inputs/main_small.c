/* The command line of network `small` (emit_kinds.conv), linked by hand. */
#include "runtime/convrt.h"

extern const RtModel small_model;

int main(int argc, char **argv)
{
    return rt_main(&small_model, argc, argv);
}
