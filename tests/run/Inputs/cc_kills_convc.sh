#!/bin/sh
# A "linker" for interrupted_link.conv: notes the object file convc passes,
# then sends SIGTERM to convc (its parent), as a user's kill would while
# linking, and fails.
for a; do
    case "$a" in *.o) printf '%s\n' "$a" > "$OBJ_NOTE" ;; esac
done
kill -TERM "$PPID"
exit 1
