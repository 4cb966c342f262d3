/*
 * main.c - the entry point of every executable convc builds: the generated
 * object defines convc_model, the runtime does the rest. Kept in its own
 * file so a test can link rt_main with a main of its own.
 */
#include "runtime/convrt.h"

int main(int argc, char **argv)
{
    return rt_main(&convc_model, argc, argv);
}
