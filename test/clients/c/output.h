/* What the C test clients share: failing with a message, and JSON strings on stdout. */
#ifndef KLITE_TEST_OUTPUT_H
#define KLITE_TEST_OUTPUT_H
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what, const char *why) {
        fprintf(stderr, "%s: %s\n", what, why);
        exit(1);
}

/* JSON string (names and messages here are ASCII without control characters). */
static void jstr(const char *s) {
        if (!s) {
                printf("null");
                return;
        }
        putchar('"');
        for (; *s; s++) {
                if (*s == '"' || *s == '\\') putchar('\\');
                putchar(*s);
        }
        putchar('"');
}
#endif
