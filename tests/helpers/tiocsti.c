/*
 * tiocsti: tries to type into every terminal it can reach, for Orbital's terminal tests.
 *
 * `tiocsti TEXT` pushes TEXT, one character at a time, into the input queue of the terminal on
 * each of fds 0, 1 and 2 and of /dev/tty, with the TIOCSTI ioctl (tty_ioctl(4)). A container
 * process that holds the user's terminal could use this to run commands on the host as the user.
 * For each descriptor it prints
 *
 *     fd=<n> dev=<st_dev> ino=<st_ino> injected=<characters pushed> errno=<last failure or 0>
 *
 * with `fd=/dev/tty` for the one it opens, `fd=<n> stat-errno=<errno>` for a descriptor that is
 * not open, and `fd=/dev/tty open-errno=<errno>` when it has no controlling terminal. Then it
 * lists every character device held by any process it can see:
 *
 *     open pid=<pid> fd=<fd> dev=<st_dev> ino=<st_ino>
 *
 * with `unreadable pid=<pid> errno=<errno>` for a process whose descriptors it cannot list and
 * `unreadable pid=<pid> fd=<fd> errno=<errno>` for a descriptor it cannot stat, so that a test can
 * tell "holds nothing" from "could not look". The device numbers are those of the open file
 * (stat, not lstat, of /proc/PID/fd/N), comparable with fstat on the host because a container
 * shares the host's device numbering. The last line is `end of report`, so that a reader knows
 * the whole report arrived.
 *
 * Always exits 0 once it ran: the test decides what the lines mean. Usage errors exit 2.
 * Built statically (`cc -static`), because the test rootfs has no C library.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pushes each character of text into the terminal on fd and prints one line about it. */
static void inject(int fd, const char *label, const char *text)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		printf("fd=%s stat-errno=%d\n", label, errno);
		return;
	}
	long injected = 0;
	int last_errno = 0;
	for (const char *c = text; *c != '\0'; c++) {
		if (ioctl(fd, TIOCSTI, c) == 0)
			injected++;
		else
			last_errno = errno;
	}
	printf("fd=%s dev=%lu ino=%lu injected=%ld errno=%d\n", label, (unsigned long)st.st_dev,
	       (unsigned long)st.st_ino, injected, last_errno);
}

/* Prints the character devices that process pid holds open. */
static void list_devices(const char *pid)
{
	char dir_path[64];
	snprintf(dir_path, sizeof dir_path, "/proc/%s/fd", pid);
	DIR *dir = opendir(dir_path);
	if (dir == NULL) {
		printf("unreadable pid=%s errno=%d\n", pid, errno);
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		char fd_path[sizeof dir_path + sizeof entry->d_name];
		struct stat st;
		snprintf(fd_path, sizeof fd_path, "%s/%s", dir_path, entry->d_name);
		/* stat follows the magic link to the open file itself, even one whose path is not
		 * reachable from this root, such as a terminal of the host's devpts. */
		if (stat(fd_path, &st) != 0)
			printf("unreadable pid=%s fd=%s errno=%d\n", pid, entry->d_name, errno);
		else if (S_ISCHR(st.st_mode))
			printf("open pid=%s fd=%s dev=%lu ino=%lu\n", pid, entry->d_name,
			       (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	}
	closedir(dir);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tiocsti TEXT\n");
		return 2;
	}
	/* Unbuffered, so that a report cut short by a crash still shows how far it got. */
	setvbuf(stdout, NULL, _IONBF, 0);

	inject(0, "0", argv[1]);
	inject(1, "1", argv[1]);
	inject(2, "2", argv[1]);
	/* The controlling terminal, whatever the standard streams are. A process without one
	 * cannot open it (ENXIO). */
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0) {
		printf("fd=/dev/tty open-errno=%d\n", errno);
	} else {
		inject(tty, "/dev/tty", argv[1]);
		close(tty);
	}

	DIR *proc = opendir("/proc");
	if (proc == NULL) {
		printf("unreadable pid=all errno=%d\n", errno);
		return 0;
	}
	struct dirent *entry;
	while ((entry = readdir(proc)) != NULL) {
		if (entry->d_name[strspn(entry->d_name, "0123456789")] == '\0')
			list_devices(entry->d_name);
	}
	closedir(proc);
	printf("end of report\n");
	return 0;
}
