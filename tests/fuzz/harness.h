/*
 * harness: what the fuzz targets share.  pm's answer to bad input is pm_die, which
 * ends the process; here it longjmps back instead (pm_set_die_hook), and what the
 * abandoned call held is given back: the heap blocks it allocated (seen through
 * the sanitizer's malloc and free hooks), the FILEs it opened, the compression
 * threads it started and the descriptors it opened.  So one process can try
 * millions of inputs, and the leak checker still sees the leaks of calls that
 * end normally.
 *
 * Link with -Wl,--wrap=fopen,--wrap=fclose,--wrap=pthread_create,--wrap=pthread_join
 * and -fsanitize=address: the targets run under libFuzzer (clang) or under
 * replay.c's main (gcc), both with AddressSanitizer.
 */
#ifndef PM_FUZZ_HARNESS_H
#define PM_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Once, before anything else: the scratch folder, the hooks, the program name. */
void fuzz_init(const char *name);

/* Run fn(arg); -1 when it returned, else the status it passed to pm_die. */
int fuzz_call(void (*fn)(void *), void *arg);

/* The path of a file named name in the scratch folder (a tmpfs when there is one). */
const char *fuzz_path(const char *name);

/* Write data to the scratch file name, replacing it; returns its path. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

/* A fuzz target's verdict on what it saw: report and abort, which libFuzzer counts as a crash. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The file of the source tree named by path (relative to the top: schemas/printer.map). */
const char *fuzz_source_file(const char *path);

#endif
