/*
 * escape: attacks on the host, tried from inside an Orbital container by the end-to-end tests.
 *
 * Each subcommand tries one thing a container must not be able to do and prints one line,
 * `<subcommand>: ok` when the attack worked or `<subcommand>: <ERRNO NAME>` with why it did not.
 * The exit status is 0 when the attack worked and 1 when it failed, so that a test reads
 * "exit 1 and EPERM" as "refused, and refused for the expected reason". The report commands
 * (caps, fds, open-ns) print what they see and exit 0; usage errors exit 2.
 *
 * Everything here is harmless even when it succeeds: the clock is set to the time it already
 * has, the reboot call only changes what Ctrl-Alt-Del does, the module is not a module, the
 * hostname is rewritten with its own value, and the block device is only read.
 *
 * Built statically (`cc -static`), because the test rootfs has no C library.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* From <linux/keyctl.h>, which libc6-dev does not always bring. */
#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

static const char *cmd;

/* The symbolic name of an errno, which is what the tests compare; strerror is only a fallback
 * for values a test never expects. */
static const char *errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case ENOEXEC: return "ENOEXEC";
	case ENOKEY: return "ENOKEY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerror(err);
	}
}

/* Reports the attack as refused with `err` and exits 1. */
static int refused(int err)
{
	printf("%s: %s\n", cmd, errno_name(err));
	return 1;
}

/* Reports the attack as refused for a reason that is not an errno and exits 1. */
static int refused_because(const char *why)
{
	printf("%s: %s\n", cmd, why);
	return 1;
}

/* Reports the attack as successful and exits 0. */
static int worked(void)
{
	printf("%s: ok\n", cmd);
	return 0;
}

static int attack_mount(void)
{
	/* The mount point may be missing in a minimal rootfs; mount must be what fails. */
	mkdir("/mnt", 0755);
	if (mount("tmpfs", "/mnt", "tmpfs", 0, NULL) != 0)
		return refused(errno);
	return worked();
}

static int attack_umount(void)
{
	/* Unmounting /proc would uncover whatever the masks hide, or the rootfs's own /proc. */
	if (umount2("/proc", MNT_DETACH) != 0)
		return refused(errno);
	return worked();
}

/* Opens `path` for writing and writes `data`: the attack is the write reaching the kernel. */
static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return refused(errno);
	ssize_t n = write(fd, data, len);
	int err = errno;
	close(fd);
	if (n < 0)
		return refused(err);
	return worked();
}

static int attack_sysrq(void)
{
	/* "h" only prints the sysrq help to the kernel log, should it ever get through. */
	return write_file("/proc/sysrq-trigger", "h", 1);
}

static int attack_sysctl(void)
{
	/* Write the hostname back unchanged: a success proves /proc/sys is writable, and changes
	 * nothing, as the container has a UTS namespace of its own anyway. */
	char name[HOST_NAME_MAX + 2] = {0};
	int fd = open("/proc/sys/kernel/hostname", O_RDONLY);
	if (fd < 0)
		return refused(errno);
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n <= 0)
		return refused(n < 0 ? errno : EIO);
	return write_file("/proc/sys/kernel/hostname", name, (size_t)n);
}

static int attack_kcore(void)
{
	/* A masked kcore is /dev/null, which opens but reads nothing; an absent one does not
	 * open. Either way no kernel memory is read. */
	char buf[512];
	int fd = open("/proc/kcore", O_RDONLY);
	if (fd < 0)
		return refused(errno);
	ssize_t n = read(fd, buf, sizeof(buf));
	int err = errno;
	close(fd);
	if (n < 0)
		return refused(err);
	if (n == 0)
		return refused_because("empty");
	return worked();
}

static int attack_mknod_block(int argc, char **argv)
{
	/* CAP_MKNOD is in the default set, so creating the node may well work; what must not is
	 * reading a host disk through it. The report names the step that failed. */
	if (argc != 4) {
		fprintf(stderr, "usage: escape mknod-block PATH MAJOR MINOR\n");
		return 2;
	}
	const char *path = argv[1];
	dev_t dev = makedev(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
	char buf[512];
	unlink(path);
	if (mknod(path, S_IFBLK | 0600, dev) != 0) {
		printf("%s: mknod %s\n", cmd, errno_name(errno));
		return 1;
	}
	int fd = open(path, O_RDONLY);
	int err = errno;
	unlink(path);
	if (fd < 0) {
		printf("%s: open %s\n", cmd, errno_name(err));
		return 1;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	err = errno;
	close(fd);
	if (n <= 0) {
		printf("%s: read %s\n", cmd, n < 0 ? errno_name(err) : "empty");
		return 1;
	}
	return worked();
}

static int attack_init_module(void)
{
	/* Not an ELF image: even with the privilege, the kernel would reject it after the
	 * permission checks, with ENOEXEC rather than EPERM. */
	static char image[64] = "not a kernel module";
	if (syscall(SYS_init_module, image, sizeof(image), "") != 0)
		return refused(errno);
	return worked();
}

static int attack_reboot(void)
{
	/* CAD_OFF only routes Ctrl-Alt-Del to init as a signal; never ask for a real restart. */
	if (reboot(RB_DISABLE_CAD) != 0)
		return refused(errno);
	return worked();
}

static int attack_settime(void)
{
	/* Setting the time it already is changes nothing, even on success. */
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return refused(errno);
	if (clock_settime(CLOCK_REALTIME, &now) != 0)
		return refused(errno);
	return worked();
}

static int attack_keyctl(void)
{
	/* The kernel keyring is not namespaced: a container reaching it reaches the host's keys. */
	if (syscall(SYS_keyctl, (long)KEYCTL_GET_KEYRING_ID, (long)KEY_SPEC_SESSION_KEYRING, 0L) < 0)
		return refused(errno);
	return worked();
}

static int attack_ptrace_init(void)
{
	/* A tracer of orbital-init could make it run code with CAP_KILL, and read its memory. */
	if (ptrace(PTRACE_ATTACH, 1, NULL, NULL) != 0)
		return refused(errno);
	waitpid(1, NULL, __WALL);
	ptrace(PTRACE_DETACH, 1, NULL, NULL);
	return worked();
}

static int attack_kill(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: escape kill PID\n");
		return 2;
	}
	if (kill((pid_t)strtol(argv[1], NULL, 10), SIGKILL) != 0)
		return refused(errno);
	return worked();
}

static int attack_open_ns(int argc, char **argv)
{
	/* Prints the namespace a /proc/PID/ns link names, for the test to compare with the host's,
	 * and tries to enter it: setns is the step that would follow with a host namespace. */
	if (argc != 2) {
		fprintf(stderr, "usage: escape open-ns /proc/PID/ns/NAME\n");
		return 2;
	}
	char link[128] = {0};
	if (readlink(argv[1], link, sizeof(link) - 1) < 0) {
		printf("%s: readlink %s\n", cmd, errno_name(errno));
		return 1;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("%s: %s open %s\n", cmd, link, errno_name(errno));
		return 1;
	}
	int rc = setns(fd, 0);
	int err = errno;
	close(fd);
	if (rc != 0) {
		printf("%s: %s setns %s\n", cmd, link, errno_name(err));
		return 1;
	}
	printf("%s: %s setns ok\n", cmd, link);
	return 0;
}

static int attack_chroot_escape(int argc, char **argv)
{
	/* The classic: chroot into a subdirectory while the working directory stays outside it,
	 * climb with "..", and chroot to where the climb ended. Under a plain chroot this reaches
	 * the real root; under a detached pivot_root there is nothing above the container's root. */
	if (argc != 2) {
		fprintf(stderr, "usage: escape chroot-escape HOST-ONLY-PATH\n");
		return 2;
	}
	if (mkdir("/tmp/x", 0755) != 0 && errno != EEXIST)
		return refused(errno);
	if (chdir("/") != 0 || chroot("/tmp/x") != 0)
		return refused(errno);
	for (int i = 0; i < 64; i++)
		if (chdir("..") != 0)
			return refused(errno);
	if (chroot(".") != 0)
		return refused(errno);
	if (access(argv[1], F_OK) != 0)
		return refused(errno);
	return worked();
}

static int attack_unshare_user(void)
{
	/* A user namespace hands out every capability inside it, and with it the kernel's whole
	 * namespaced attack surface. */
	if (unshare(CLONE_NEWUSER) != 0)
		return refused(errno);
	return worked();
}

static int attack_setuid0(void)
{
	int rc = setuid(0);
	int err = errno;
	printf("%s: %s uid=%u euid=%u\n", cmd, rc == 0 ? "ok" : errno_name(err),
	       (unsigned)getuid(), (unsigned)geteuid());
	return rc == 0 ? 0 : 1;
}

/* Prints the lines of /proc/self/status that describe privilege. */
static int report_caps(void)
{
	static const char *fields[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
				       "NoNewPrivs:", "Seccomp:", NULL};
	char line[256];
	FILE *status = fopen("/proc/self/status", "r");
	if (!status)
		return refused(errno);
	while (fgets(line, sizeof(line), status))
		for (int i = 0; fields[i]; i++)
			if (strncmp(line, fields[i], strlen(fields[i])) == 0)
				fputs(line, stdout);
	fclose(status);
	return 0;
}

/* Prints `label: target` for one magic link of /proc, or the errno that hides it. */
static void print_link(const char *label, const char *path)
{
	char target[PATH_MAX] = {0};
	if (readlink(path, target, sizeof(target) - 1) < 0)
		printf("%s: %s\n", label, errno_name(errno));
	else
		printf("%s: %s\n", label, target);
}

/* Prints every descriptor of `pid` ("self" or "1") with its target. */
static void print_fds(const char *pid)
{
	char dir_path[64];
	snprintf(dir_path, sizeof(dir_path), "/proc/%s/fd", pid);
	DIR *dir = opendir(dir_path);
	if (!dir) {
		printf("fds of %s: %s\n", pid, errno_name(errno));
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.')
			continue;
		char label[320], path[320];
		snprintf(label, sizeof(label), "fd %s/%s", pid, entry->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir_path, entry->d_name);
		print_link(label, path);
	}
	closedir(dir);
}

/* Prints the descriptors, working directory and root of this process and of pid 1. The
 * container cannot tell a host path from its own; the test, which knows both, checks them. */
static int report_fds(void)
{
	print_fds("self");
	print_fds("1");
	print_link("cwd self", "/proc/self/cwd");
	print_link("root self", "/proc/self/root");
	print_link("cwd 1", "/proc/1/cwd");
	print_link("root 1", "/proc/1/root");
	return 0;
}

int main(int argc, char **argv)
{
	/* The report goes out in one piece, before the exit status. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: escape SUBCOMMAND [ARG...]\n");
		return 2;
	}
	cmd = argv[1];
	argc--;
	argv++;

	if (!strcmp(cmd, "mount")) return attack_mount();
	if (!strcmp(cmd, "umount")) return attack_umount();
	if (!strcmp(cmd, "sysrq")) return attack_sysrq();
	if (!strcmp(cmd, "sysctl")) return attack_sysctl();
	if (!strcmp(cmd, "kcore")) return attack_kcore();
	if (!strcmp(cmd, "mknod-block")) return attack_mknod_block(argc, argv);
	if (!strcmp(cmd, "init-module")) return attack_init_module();
	if (!strcmp(cmd, "reboot")) return attack_reboot();
	if (!strcmp(cmd, "settime")) return attack_settime();
	if (!strcmp(cmd, "keyctl")) return attack_keyctl();
	if (!strcmp(cmd, "ptrace-init")) return attack_ptrace_init();
	if (!strcmp(cmd, "kill")) return attack_kill(argc, argv);
	if (!strcmp(cmd, "open-ns")) return attack_open_ns(argc, argv);
	if (!strcmp(cmd, "chroot-escape")) return attack_chroot_escape(argc, argv);
	if (!strcmp(cmd, "unshare-user")) return attack_unshare_user();
	if (!strcmp(cmd, "setuid0")) return attack_setuid0();
	if (!strcmp(cmd, "caps")) return report_caps();
	if (!strcmp(cmd, "fds")) return report_fds();
	fprintf(stderr, "escape: unknown subcommand %s\n", cmd);
	return 2;
}
