// SPDX-License-Identifier: MIT
#define _GNU_SOURCE             /* sigabbrev_np, ppoll */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "output.h"
#include "run.h"

#define SYMLINK_HOPS 40         /* as the kernel's MAXSYMLINKS */

int output_ignore_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGPIPE, &sa, NULL) || sigaction(SIGXFSZ, &sa, NULL) ? -1 : 0;
}

void output_guard_std_fds(bool *stdout_closed)
{
	*stdout_closed = false;
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd == 1)
			*stdout_closed = true;
		/* open() returns the lowest free fd: this one. */
		if (open("/dev/null", O_RDWR) != fd)
			return;
	}
}

/* "/dev/stdout", "/dev/fd/N", "/proc/self/fd/N", "/proc/<our pid>/fd/N": N, else -1. */
static int fd_path(const char *p)
{
	static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
	const char *prefixes[4] = { "/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", NULL };
	char own[64];
	long n = 0;

	for (int i = 0; i < 3; i++)
		if (!strcmp(p, std[i]))
			return i;
	snprintf(own, sizeof(own), "/proc/%d/fd/", (int)getpid());
	prefixes[3] = own;
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(prefixes[i]);
		const char *d = p + l;

		if (strncmp(p, prefixes[i], l) || !*d)
			continue;
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d) || n > INT_MAX / 10)
				return -1;
			n = n * 10 + (*d - '0');
		}
		return n <= INT_MAX ? (int)n : -1;
	}
	return -1;
}

enum resolved { RESOLVED_ERROR = -1, RESOLVED_FD, RESOLVED_EXISTS, RESOLVED_NEW };

/*
 * Follow the symlinks of the last component ourselves (the kernel follows
 * the directories'), so that a link is written through, not replaced, and a
 * link to an fd (/dev/stdout) is recognised as one.
 */
static enum resolved resolve(const char *path, char *cur, int *fd, struct stat *st)
{
	char target[PATH_MAX];

	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return RESOLVED_ERROR;
	}
	strcpy(cur, path);
	for (int hops = 0;; hops++) {
		ssize_t n;
		char *slash;

		if ((*fd = fd_path(cur)) >= 0)
			return RESOLVED_FD;
		if (hops > SYMLINK_HOPS) {
			errno = ELOOP;
			return RESOLVED_ERROR;
		}
		if (lstat(cur, st))
			return errno == ENOENT ? RESOLVED_NEW : RESOLVED_ERROR;
		if (!S_ISLNK(st->st_mode))
			return RESOLVED_EXISTS;
		if ((n = readlink(cur, target, sizeof(target))) < 0)
			return RESOLVED_ERROR;
		if ((size_t)n >= sizeof(target)) {
			errno = ENAMETOOLONG;
			return RESOLVED_ERROR;
		}
		target[n] = '\0';
		/* A relative link is relative to the directory that holds it. */
		slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash) {
			strcpy(cur, target);
		} else {
			size_t dl = (size_t)(slash - cur) + 1;
			if (dl + (size_t)n >= PATH_MAX) {
				errno = ENAMETOOLONG;
				return RESOLVED_ERROR;
			}
			memcpy(cur + dl, target, (size_t)n + 1);
		}
	}
}

static mode_t umask_now(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

/* Written directly: an fd we were given, a character device or a FIFO. */
static int open_direct(struct output_target *t, const char *cur, int fd, const struct stat *st,
		       char *err, size_t errlen)
{
	const char *path = t->o->path;
	int fl;

	if (fd >= 0) {
		if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			snprintf(err, errlen, "--output %s: file descriptor %d is %s", path, fd,
				 fl < 0 ? "not open" : "open for reading only");
			return -1;
		}
		if ((t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
			snprintf(err, errlen, "--output %s: duplicating fd %d: %s", path, fd, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* A FIFO nobody reads would block the open: refuse it now (ENXIO). */
	t->fd = open(cur, O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISFIFO(st->st_mode) ? O_NONBLOCK : 0));
	if (t->fd < 0) {
		if (errno == ENXIO && S_ISFIFO(st->st_mode))
			snprintf(err, errlen, "--output %s: a FIFO that no process has open for reading "
				 "(start the reader first)", path);
		else
			snprintf(err, errlen, "--output %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISFIFO(st->st_mode) && ((fl = fcntl(t->fd, F_GETFL)) < 0 ||
				      fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
		snprintf(err, errlen, "--output %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A temporary file beside the target, in t->dir_fd: "NAME.XXXXXX", or
 * ".nestvmm-XXXXXX" when NAME is too long for that. Through the directory's
 * fd, so a path near PATH_MAX works as well as a short one.
 */
static int tmp_create(struct output_target *t)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t bl = strlen(t->base);

	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		char *x;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		if (bl + 7 <= NAME_MAX)
			x = t->tmp + sprintf(t->tmp, "%s.", t->base);
		else
			x = t->tmp + sprintf(t->tmp, ".nestvmm-");
		for (int i = 0; i < 6; i++)
			x[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		x[6] = '\0';
		t->fd = openat(t->dir_fd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (t->fd >= 0) {
			if (!fchmod(t->fd, t->mode))
				return 0;
			int e = errno;
			close(t->fd);
			unlinkat(t->dir_fd, t->tmp, 0);
			t->fd = -1;
			t->tmp[0] = '\0';
			errno = e;
			return -1;
		}
		/* The name is someone else's file (or none): never remove it later. */
		t->tmp[0] = '\0';
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* A regular file: its directory is opened, and a temporary file made there, now. */
static int open_file(struct output_target *t, const char *cur, bool exists, const struct stat *st,
		     char *err, size_t errlen)
{
	const char *path = t->o->path, *slash = strrchr(cur, '/');
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cur) + (slash == cur) : 1,
		 slash ? cur : ".");
	if (exists && access(cur, W_OK)) {
		snprintf(err, errlen, "--output %s: file is not writable: %s", path, strerror(errno));
		return -1;
	}
	t->mode = exists ? st->st_mode & 07777 : 0666 & ~umask_now();
	t->kind = OUTPUT_FILE;
	if (!(t->base = strdup(slash ? slash + 1 : cur)) || !(t->tmp = calloc(1, NAME_MAX + 1))) {
		snprintf(err, errlen, "--output %s: out of memory", path);
		return -1;
	}
	if ((t->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || tmp_create(t)) {
		snprintf(err, errlen, "--output %s: cannot create a file in %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int output_open(struct output_target *t, const struct output *o, char *err, size_t errlen)
{
	static char cur[PATH_MAX];
	struct stat st = { 0 };
	int fd;

	memset(t, 0, sizeof(*t));
	t->o = o;
	t->fd = t->dir_fd = -1;
	t->kind = OUTPUT_DIRECT;
	if (!o->path)
		return open_direct(t, "", 1, &st, err, errlen) ? -1 : 0;
	switch (resolve(o->path, cur, &fd, &st)) {
	case RESOLVED_FD:
		return open_direct(t, cur, fd, &st, err, errlen);
	case RESOLVED_NEW:
		return open_file(t, cur, false, &st, err, errlen);
	case RESOLVED_EXISTS:
		if (S_ISREG(st.st_mode))
			return open_file(t, cur, true, &st, err, errlen);
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return open_direct(t, cur, -1, &st, err, errlen);
		snprintf(err, errlen, "--output %s: %s, not a regular file, character device or FIFO",
			 o->path, S_ISDIR(st.st_mode) ? "is a directory" : S_ISSOCK(st.st_mode) ?
			 "is a socket" : S_ISBLK(st.st_mode) ? "is a block device" : "is a special file");
		return -1;
	default:
		snprintf(err, errlen, "--output %s: %s", o->path, strerror(errno));
		return -1;
	}
}

int output_write_fd(int fd, const char *buf, size_t len)
{
	sigset_t ours, old;

	sigemptyset(&ours);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGHUP);
	sigaddset(&ours, SIGALRM);
	while (len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		struct timespec now = { 0, 0 };
		ssize_t w;
		int r;

		/*
		 * Wait until fd takes data with our signals unblocked atomically
		 * (ppoll), so that a signal always ends the wait; once one came,
		 * only writes that do not block are still tried.
		 */
		if (sigprocmask(SIG_BLOCK, &ours, &old))
			return -1;
		r = ppoll(&p, 1, run_signal_pending() ? &now : NULL, &old);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (r == 0 || (r < 0 && errno == EINTR && run_signal_pending())) {
			errno = EINTR;
			return -1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (r < 0)
			continue;
		/* At most PIPE_BUF: a pipe that polled writable takes it without blocking. */
		w = write(fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static const char *target_name(const struct output_target *t, char *buf, size_t len)
{
	if (!t->o->path)
		return "standard output";
	snprintf(buf, len, "--output %s", t->o->path);
	return buf;
}

static void report(struct output_target *t, const char *what, int e)
{
	char name[PATH_MAX + 16];

	if (e == EINTR && run_signal_pending())
		fprintf(stderr, "nestvmm: %s: %s interrupted by SIG%s; the verdict there is lost or cut short\n",
			target_name(t, name, sizeof(name)), what, sigabbrev_np(run_signal_pending()));
	else
		fprintf(stderr, "nestvmm: %s: %s: %s\n", target_name(t, name, sizeof(name)), what, strerror(e));
	t->failed = true;
}

/* The verdict in t's format, in memory (freed by the caller). */
static char *render(const struct output_target *t, const struct verdict *v, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	format_write(t->o->format, v, f, !t->o->path && isatty(t->fd) &&
		     !(getenv("NO_COLOR") && *getenv("NO_COLOR")));
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_target(struct output_target *t, const struct verdict *v)
{
	size_t len;
	char *buf = render(t, v, &len);
	int rc;

	if (!buf) {
		report(t, "rendering the verdict", errno);
		return -1;
	}
	rc = output_write_fd(t->fd, buf, len);
	if (rc)
		report(t, "write", errno);
	free(buf);
	return rc;
}

/*
 * A file: into its temporary file (a new one when written again), on disk,
 * then renamed over the target: a reader sees one whole verdict or another.
 */
static int write_file(struct output_target *t, const struct verdict *v)
{
	const char *step = "write";

	if (t->fd < 0 && tmp_create(t)) {
		report(t, "creating a temporary file", errno);
		return -1;
	}
	if (write_target(t, v))
		goto fail;
	if (fsync(t->fd) && (step = "fsync"))
		goto fail_report;
	if (close(t->fd) && (t->fd = -1, step = "close"))
		goto fail_report;
	t->fd = -1;
	if (renameat(t->dir_fd, t->tmp, t->dir_fd, t->base) && (step = "rename"))
		goto fail_report;
	t->tmp[0] = '\0';
	t->written = true;
	return 0;
fail_report:
	report(t, step, errno);
fail:
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	unlinkat(t->dir_fd, t->tmp, 0);
	t->tmp[0] = '\0';
	return -1;
}

static void close_target(struct output_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->tmp && t->tmp[0])
		unlinkat(t->dir_fd, t->tmp, 0);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	free(t->tmp);
	free(t->base);
	t->tmp = t->base = NULL;
	t->fd = t->dir_fd = -1;
}

void output_discard(struct output_target *t, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close_target(&t[i]);
}

/* Exit code after a failed write: 128 + signal when a signal stopped it. */
static int failure_code(void)
{
	return run_signal_pending() ? 128 + run_signal_pending() : EXIT_OUTPUT;
}

/* Every file not failed, (again) with v's exit code; the code once it is stable. */
static int write_files(struct output_target *t, unsigned int n, struct verdict *v, int code)
{
	int before;

	do {
		before = code;
		for (unsigned int i = 0; i < n; i++)
			if (t[i].kind == OUTPUT_FILE && !t[i].failed && write_file(&t[i], v))
				v->exit_override = code = failure_code();
	} while (code != before);
	return code;
}

int output_write_all(struct output_target *t, unsigned int n, struct verdict *v, int code)
{
	int filed;

	/* A signal after the run: still write, but exit as interrupted, and say so everywhere. */
	if (run_signal_pending())
		v->exit_override = code = failure_code();
	/*
	 * Files first, in place before anything can block (a pipe nobody
	 * reads), then the direct outputs. When one of those fails, the files
	 * are replaced by versions with the new exit code.
	 */
	filed = code = write_files(t, n, v, code);
	for (unsigned int i = 0; i < n; i++)
		if (t[i].kind == OUTPUT_DIRECT && write_target(&t[i], v))
			v->exit_override = code = failure_code();
	if (code != filed)
		code = write_files(t, n, v, code);
	output_discard(t, n);
	return code;
}
