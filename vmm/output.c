// SPDX-License-Identifier: MIT
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

static bool colour_wanted(FILE *out)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(fileno(out)) && !(nc && *nc);
}

/* The directory must exist and be writable; an existing FILE must be a writable regular file. */
int output_check_writable(const struct output *o, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;

	if (!o->path)
		return 0;
	snprintf(dir, sizeof(dir), "%s", o->path);
	if (stat(o->path, &st) == 0 && (!S_ISREG(st.st_mode) || access(o->path, W_OK))) {
		snprintf(err, errlen, "--output %s: %s", o->path,
			 S_ISREG(st.st_mode) ? "file is not writable" : "not a regular file");
		return -1;
	}
	if (access(dirname(dir), W_OK)) {
		snprintf(err, errlen, "--output %s: directory %s: %s", o->path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

int output_write(const struct output *o, const struct verdict *v, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f;
	int fd;

	if (!o->path) {
		format_write(o->format, v, stdout, colour_wanted(stdout));
		return fflush(stdout) ? -1 : 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->path);
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--output %s: %s", o->path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	format_write(o->format, v, f, false);
	fchmod(fd, 0644);
	if (fflush(f) || fsync(fd) || fclose(f) || rename(tmp, o->path)) {
		snprintf(err, errlen, "--output %s: %s", o->path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
