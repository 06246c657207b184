/**
 * Source of the sandbox cell (cell.ts), the native helper that starts every sandboxed run. Kept as a
 * string so the worker image ships it with the compiled TypeScript; cell.ts builds it with gcc at first use.
 */
// prettier-ignore
export const CELL_SOURCE = String.raw`/* sandbox cell: a long-lived process that starts one run at a time, each in a fresh sandbox.
 * Runs as root with an empty environment. Reads requests on fd 0, answers on fd 1 (see cell.ts).
 * fd 3: the compiled seccomp BPF program, read once (no path in the command line, which PID 1 of
 * every run shares with this process).
 * Per run: clone into new mount, pid, ipc, uts and cgroup namespaces (on cgroup v2 straight into the
 * run's cgroup; the network namespace is the cell's own, empty); the child, PID 1 of its namespaces,
 * builds the root file system, then forks the program, which sets its rlimits, drops to the run's uid
 * without capabilities, applies the filter and execs. PID 1 stays root, reaps, and exits with the
 * program's status (128 + N for signal N). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST (1 << 20)
#define MAX_ARGS 256
#define STATUS_FD 3

static struct sock_fprog filter;

struct request {
  unsigned uid;
  const char *box;
  int writable;
  long long cpu_soft, cpu_hard, fsize, nofile, nproc, stack, tmp_bytes;
  const char *cgroup; /* v2: the run's cgroup directory, or "" */
  char *argv[MAX_ARGS + 1];
};

/* Setup failures go to the status pipe (the worker turns them into an internal error). */
static void fail(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg - 64, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof msg - 64) n = sizeof msg - 64;
  n += snprintf(msg + n, 64, ": %s", strerror(errno));
  if (write(STATUS_FD, msg, n) < 0) _exit(126);
  _exit(125);
}

static void must_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data)) fail("mount %s", dst);
}

static void must_mkdir(const char *dir, mode_t mode) {
  if (mkdir(dir, mode) && errno != EEXIST) fail("mkdir %s", dir);
}

/* Bind src (a directory or file) read-only (unless writable) at dst, without setuid or devices. */
static void bind(const char *src, const char *dst, int writable, int optional) {
  struct stat st;
  if (stat(src, &st)) {
    if (optional) return;
    fail("stat %s", src);
  }
  if (S_ISDIR(st.st_mode)) must_mkdir(dst, 0755);
  else if (access(dst, F_OK)) {
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("create %s", dst);
    close(fd);
  }
  must_mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
  unsigned long ro = writable ? 0 : MS_RDONLY;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY) };
  if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof attr) == 0) return;
  must_mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | ro, NULL);
}

static void must_symlink(const char *target, const char *link) {
  if (symlink(target, link)) fail("symlink %s", link);
}

/* The root file system, as bwrap built it before: read-only /usr (no /usr/local), a few /etc files,
 * fresh /proc, a minimal /dev, a private /tmp, the job's directory as /box; everything else read-only. */
static void build_root(const struct request *r) {
  char box_src[64], tmp_opts[64];
  /* Opened in this mount namespace (a mount of the parent's cannot be bound here). */
  int box_fd = open(r->box, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (box_fd < 0) fail("open the box");
  snprintf(box_src, sizeof box_src, "/proc/self/fd/%d", box_fd);
  snprintf(tmp_opts, sizeof tmp_opts, "mode=1777,size=%lld", r->tmp_bytes);
  must_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  /* A tmpfs over /tmp holds the new root while it is built (host paths are reached through fds). */
  must_mount("sandbox", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m");
  must_mkdir("/tmp/root", 0755);
  must_mount("sandbox", "/tmp/root", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m");
  if (chdir("/tmp/root")) fail("chdir");
  bind("/usr", "usr", 0, 0);
  must_mount("sandbox", "usr/local", "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0755,size=4k");
  must_symlink("usr/lib", "lib");
  must_symlink("usr/lib64", "lib64");
  must_symlink("usr/bin", "bin");
  must_symlink("usr/sbin", "sbin");
  must_mkdir("etc", 0755);
  bind("/etc/ld.so.cache", "etc/ld.so.cache", 0, 0);
  bind("/etc/alternatives", "etc/alternatives", 0, 1);
  bind("/etc/java-17-openjdk", "etc/java-17-openjdk", 0, 1);
  must_mkdir("proc", 0755);
  must_mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  static const char *proc_ro[] = { "proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus" };
  for (unsigned i = 0; i < sizeof proc_ro / sizeof *proc_ro; i++) {
    if (access(proc_ro[i], F_OK) == 0) bind(proc_ro[i], proc_ro[i], 0, 0);
  }
  must_mkdir("dev", 0755);
  must_mount("sandbox", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k");
  static const char *devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
  char src[64], dst[64];
  for (unsigned i = 0; i < sizeof devices / sizeof *devices; i++) {
    snprintf(src, sizeof src, "/dev/%s", devices[i]);
    snprintf(dst, sizeof dst, "dev/%s", devices[i]);
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) fail("create %s", dst);
    close(fd);
    must_mount(src, dst, NULL, MS_BIND, NULL);
  }
  must_symlink("/proc/self/fd", "dev/fd");
  must_symlink("/proc/self/fd/0", "dev/stdin");
  must_symlink("/proc/self/fd/1", "dev/stdout");
  must_symlink("/proc/self/fd/2", "dev/stderr");
  must_mkdir("dev/shm", 0755);
  must_mkdir("dev/pts", 0755);
  must_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620");
  must_symlink("pts/ptmx", "dev/ptmx");
  must_mkdir("tmp", 0755);
  must_mount("sandbox", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts);
  must_mkdir("box", 0755);
  bind(box_src, "box", r->writable, 0);
  /* The new root goes on top of the old one, which is then detached. */
  if (syscall(SYS_pivot_root, ".", ".")) fail("pivot_root");
  if (umount2(".", MNT_DETACH)) fail("umount old root");
  if (chdir("/")) fail("chdir /");
  must_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
  if (chdir("/box")) fail("chdir /box");
  close(box_fd);
}

static void set_limit(int resource, long long soft, long long hard, const char *name) {
  struct rlimit rl = { (rlim_t)soft, (rlim_t)hard };
  if (setrlimit(resource, &rl)) fail("setrlimit %s", name);
}

/* The program: limits, the run's uid with no capabilities and no way to gain any, the filter, exec. */
/* Best effort: a container without CAP_SYS_RESOURCE may refuse to lower the OOM score. */
static void set_oom_score_adj(const char *value) {
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, value, strlen(value)) < 0) {
    /* keep the inherited score */
  }
  close(fd);
}

static void start_program(const struct request *r) {
  if (setsid() < 0) fail("setsid");
  /* At its limit, the OOM killer takes the program, not its cell or PID 1 (raising needs no privilege). */
  set_oom_score_adj("1000");
  set_limit(RLIMIT_CPU, r->cpu_soft, r->cpu_hard, "cpu");
  set_limit(RLIMIT_FSIZE, r->fsize, r->fsize, "fsize");
  set_limit(RLIMIT_NOFILE, r->nofile, r->nofile, "nofile");
  set_limit(RLIMIT_NPROC, r->nproc, r->nproc, "nproc");
  set_limit(RLIMIT_STACK, r->stack, r->stack, "stack");
  set_limit(RLIMIT_CORE, 0, 0, "core");
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) fail("drop capability %d", cap);
  }
  if (setgroups(0, NULL)) fail("setgroups");
  if (setresgid(r->uid, r->uid, r->uid)) fail("setresgid");
  if (setresuid(r->uid, r->uid, r->uid)) fail("setresuid");
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[2];
  memset(caps, 0, sizeof caps);
  if (syscall(SYS_capset, &header, caps)) fail("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) fail("clear ambient capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) fail("no_new_privs");
  clearenv();
  setenv("PATH", "/usr/bin:/bin", 1);
  setenv("HOME", "/tmp", 1);
  setenv("LANG", "C.UTF-8", 1);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0)) fail("seccomp");
  execvp(r->argv[0], r->argv);
  /* Started, but the command is not there: the program's own failure (exit 127), as a shell says. */
  dprintf(2, "sandbox: cannot execute %s: %s\n", r->argv[0], strerror(errno));
  _exit(127);
}

/* PID 1 of the run's namespaces: build the root, start the program, reap until it exits. */
static void run_init(const struct request *r) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (sethostname("sandbox", 7)) fail("sethostname");
  build_root(r);
  pid_t program = fork();
  if (program < 0) fail("fork");
  if (program == 0) start_program(r);
  close(STATUS_FD);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; fd++) dup2(devnull, fd);
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) _exit(125);
    if (pid == program) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

static int read_full(int fd, char *buf, size_t len) {
  while (len) {
    ssize_t n = read(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

static int read_line(int fd, char *buf, size_t size) {
  size_t i = 0;
  while (i + 1 < size) {
    ssize_t n = read(fd, buf + i, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    if (buf[i] == '\n') break;
    i++;
  }
  buf[i] = 0;
  return 0;
}

static void reply(const char *fmt, ...) {
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= (int)sizeof line) n = sizeof line - 1;
  if (write(1, line, n) != n) _exit(0);
}

/* Request: "<bytes>\n" then NUL-terminated fields: uid box writable cpu_soft cpu_hard fsize nofile nproc
 * stack tmp_bytes cgroup argv... */
static int parse(char *buf, size_t len, struct request *r) {
  char *fields[MAX_ARGS + 12];
  size_t count = 0;
  for (char *p = buf; p < buf + len && count < sizeof fields / sizeof *fields; p += strlen(p) + 1) fields[count++] = p;
  if (count < 12 || buf[len - 1] != 0) return -1;
  r->uid = strtoul(fields[0], NULL, 10);
  r->box = fields[1];
  r->writable = fields[2][0] == '1';
  long long *numbers[] = { &r->cpu_soft, &r->cpu_hard, &r->fsize, &r->nofile, &r->nproc, &r->stack, &r->tmp_bytes };
  for (int i = 0; i < 7; i++) *numbers[i] = strtoll(fields[3 + i], NULL, 10);
  r->cgroup = fields[10];
  size_t argc = count - 11;
  for (size_t i = 0; i < argc; i++) r->argv[i] = fields[11 + i];
  r->argv[argc] = NULL;
  return r->uid == 0 ? -1 : 0;
}

static void load_filter(int fd) {
  struct stat st;
  if (fstat(fd, &st) || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter)) {
    dprintf(2, "sandbox cell: cannot read the seccomp filter from fd %d\n", fd);
    _exit(2);
  }
  struct sock_filter *code = malloc(st.st_size);
  if (!code || read_full(fd, (char *)code, st.st_size)) _exit(2);
  close(fd);
  filter.len = st.st_size / sizeof(struct sock_filter);
  filter.filter = code;
}

static pid_t clone_run(const char *cgroup) {
  /* No CLONE_NEWNET: the cell's own empty network namespace is shared by its runs (see main). */
  unsigned long long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (!cgroup[0]) return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  /* cgroup v2: the child starts inside the run's cgroup (no migration afterwards). */
  int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct clone_args args = { .flags = flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (unsigned long long)fd };
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (pid != 0) close(fd);
  return pid;
}

/* Closes every descriptor from "first" on (close_range needs Linux 5.9; older kernels loop). */
static void close_from(int first) {
  if (syscall(SYS_close_range, first, ~0U, 0) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = first; fd < (max > 0 ? max : 65536); fd++) close((int)fd);
}

/* The next run's pipes, made ahead so the worker opens its ends while the cell is idle. */
static int in[2], out[2], err[2];

static void prepare_pipes(void) {
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    dprintf(2, "sandbox cell: pipe: %s\n", strerror(errno));
    _exit(1);
  }
}

/* Job directories: "M <bytes>\n" dir NUL tmpfs-options NUL mounts a tmpfs there, "U <bytes>\n" dir NUL
 * unmounts it (lazily if busy). The cell shares the worker's mount namespace; this saves the worker
 * an exec of mount(8) and umount(8) per job. Answer: "K ok" or "K E <why>". */
static void serve_mount(char op, char *buf, size_t len) {
  if (buf[len - 1] != 0 || buf[0] != '/') {
    reply("K E bad request\n");
    return;
  }
  const char *dir = buf;
  int failed;
  if (op == 'M') {
    const char *options = dir + strlen(dir) + 1;
    failed = options >= buf + len || mount("box", dir, "tmpfs", MS_NOSUID | MS_NODEV, options);
  } else {
    failed = umount2(dir, UMOUNT_NOFOLLOW) && umount2(dir, UMOUNT_NOFOLLOW | MNT_DETACH);
  }
  if (failed) reply("K E %s %s: %s\n", op == 'M' ? "mount" : "umount", dir, strerror(errno));
  else reply("K ok\n");
}

static void serve(char *buf) {
  char line[64];
  if (read_line(0, line, sizeof line)) _exit(0);
  char op = (line[0] == 'M' || line[0] == 'U') && line[1] == ' ' ? line[0] : 0;
  size_t len = strtoul(op ? line + 2 : line, NULL, 10);
  if (len == 0 || len > MAX_REQUEST || read_full(0, buf, len)) _exit(0);
  if (op) {
    serve_mount(op, buf, len);
    return;
  }
  struct request r;
  if (parse(buf, len, &r)) {
    reply("X 125 E bad request\nP %d %d %d\n", in[1], out[0], err[0]);
    return;
  }
  /* The worker has opened its ends (it sends a request only then): only its copies may stay open. */
  close(in[1]);
  close(out[0]);
  close(err[0]);
  int status[2];
  if (pipe2(status, O_CLOEXEC)) {
    dprintf(2, "sandbox cell: pipe: %s\n", strerror(errno));
    _exit(1);
  }
  pid_t init = clone_run(r.cgroup);
  if (init == 0) {
    /* stdio for the program, the status pipe as fd 3; nothing else. */
    int keep[4] = { in[0], out[1], err[1], status[1] };
    for (int i = 0; i < 4; i++) keep[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 64);
    for (int i = 0; i < 4; i++) dup2(keep[i], i);
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
    close_from(4);
    run_init(&r);
  }
  int clone_errno = errno;
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(status[1]);
  char msg[512];
  size_t got = 0;
  int code = 125;
  if (init < 0) {
    got = snprintf(msg, sizeof msg, "clone: %s", strerror(clone_errno));
  } else {
    for (;;) {
      ssize_t n = read(status[0], msg + got, sizeof msg - 1 - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || (got += n) == sizeof msg - 1) break;
    }
    int st;
    while (waitpid(init, &st, 0) < 0) {
      if (errno != EINTR) _exit(1);
    }
    code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  close(status[0]);
  msg[got] = 0;
  for (size_t i = 0; i < got; i++) if (msg[i] == '\n' || msg[i] == 0) msg[i] = ' ';
  prepare_pipes();
  /* One write, one wake-up of the worker: this run's end and the next run's pipes. */
  if (got) reply("X %d E %s\nP %d %d %d\n", code, msg, in[1], out[0], err[0]);
  else reply("X %d ok\nP %d %d %d\n", code, in[1], out[0], err[0]);
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    dprintf(2, "usage: sandbox-cell 3<seccomp.bpf\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  load_filter(3);
  /* A run at its memory limit should not take its cell with it (v1: they share the group). */
  set_oom_score_adj("-1000");
  /* One network namespace per cell, made once (a fresh one per run costs 1-6 ms to set up and tear
   * down): only a loopback that is down, which an unprivileged program cannot bring up. Nothing in it
   * outlives a run's processes, and runs of a cell never overlap. IPC objects do outlive processes,
   * so each run still gets an IPC namespace of its own. */
  if (unshare(CLONE_NEWNET)) {
    dprintf(2, "sandbox cell: cannot make a network namespace: %s\n", strerror(errno));
    return 1;
  }
  char *buf = malloc(MAX_REQUEST);
  if (!buf) return 1;
  prepare_pipes();
  reply("P %d %d %d\n", in[1], out[0], err[0]);
  for (;;) serve(buf);
}
`;
