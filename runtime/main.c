/*
 * main.c - the entry point for a hand-written descriptor named convc_model
 * (the runtime's tests, tests/runtime/Inputs/model.c). Objects convc
 * generates define their own main; then this file is never linked in.
 */
#include "runtime/convrt.h"

int main(int argc, char **argv)
{
    return rt_main(&convc_model, argc, argv);
}
