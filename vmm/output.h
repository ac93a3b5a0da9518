/* SPDX-License-Identifier: MIT */
/*
 * Where a verdict goes. Every target is opened before the run, so a target
 * that cannot be written is bad input found before anything runs:
 *
 *   standard output, a character device, a FIFO, or an fd path (/dev/stdout,
 *   /dev/fd/N, /proc/self/fd/N)                        written directly
 *   a regular file, or a new one, through any symlinks  a temporary file in
 *     its directory, created before the run and renamed over it afterwards
 *     (whole or not at all), with the old file's mode or 0666 & ~umask
 *
 * After the run every output is written, files first (renamed into place
 * before anything can block). A write that fails (disk full, EPIPE,
 * RLIMIT_FSIZE, a signal while standard output is blocked) is named on
 * stderr, the other outputs are still written, and the exit code becomes
 * EXIT_OUTPUT (or 128 + signal) in the process and in the outputs written
 * after the failure; files are then replaced by versions that say so.
 */
#ifndef NESTVMM_OUTPUT_H
#define NESTVMM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "options.h"
#include "verdict.h"

enum output_kind { OUTPUT_DIRECT, OUTPUT_FILE };

struct output_target {
	const struct output *o;
	enum output_kind kind;
	int fd;                 /* direct: where to write; file: the temporary file; -1 */
	int dir_fd;             /* file: the target's directory (symlinks followed), or -1 */
	char *base;             /* file: the target's name in it */
	char *tmp;              /* file: the temporary file's name in it ("" when none) */
	mode_t mode;            /* file: mode the result gets */
	bool failed, written;
};

/* SIGPIPE and SIGXFSZ become EPIPE/EFBIG from write(): output errors, not deaths. */
int output_ignore_signals(void);
/* Fds 0-2 closed at start: open /dev/null there, so no device lands on them. */
void output_guard_std_fds(bool *stdout_closed);
/* Open o's target (see above); 0, or -1 with err naming it and why. */
int output_open(struct output_target *t, const struct output *o, char *err, size_t errlen);
/*
 * Write every target; code is the exit code the run wants. Failures are
 * printed on stderr. Returns the exit code to use (code, EXIT_OUTPUT or
 * 128 + signal). Closes everything.
 */
int output_write_all(struct output_target *t, unsigned int n, struct verdict *v, int code);
/* Before the run failed: remove the temporary files, close everything. */
void output_discard(struct output_target *t, unsigned int n);
/* Write buf whole to fd; a signal makes a blocked write give up (EINTR). */
int output_write_fd(int fd, const char *buf, size_t len);

#endif
