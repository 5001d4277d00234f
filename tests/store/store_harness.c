// Launches the S3 and Azure emulators and runs the fault-injection proxy (see the
// header).
#include "store_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char* store_harness_node_modules(void) {
  static char path[1024];
  snprintf(path, sizeof(path), "%s/tests/interop/node_modules", OTAP_SOURCE_DIR);
  return access(path, R_OK) == 0 ? path : NULL;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof(a)) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &l) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

static int connect_port(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr*)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int spawn(struct store_server* srv, char* const argv[]) {
  char log[512];
  snprintf(log, sizeof(log), "%s.log", srv->dir);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  srv->pid = pid;
  // Wait (bounded) until the port accepts connections.
  for (int i = 0; i < 600; i++) {
    int fd = connect_port(srv->port);
    if (fd >= 0) {
      close(fd);
      return 0;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      fprintf(stderr, "emulator exited early; see %s\n", log);
      srv->pid = 0;
      return -1;
    }
    sleep_ms(50);
  }
  fprintf(stderr, "emulator did not listen on port %d within 30 s; see %s\n", srv->port,
          log);
  store_server_stop(srv);
  return -1;
}

static int prepare_dir(struct store_server* srv, const char* tag) {
  memset(srv, 0, sizeof(*srv));
  snprintf(srv->dir, sizeof(srv->dir), "/tmp/otap-%s-XXXXXX", tag);
  if (!mkdtemp(srv->dir)) return -1;
  srv->port = free_port();
  if (srv->port <= 0) return -1;
  snprintf(srv->endpoint, sizeof(srv->endpoint), "http://127.0.0.1:%d", srv->port);
  return store_harness_node_modules() ? 0 : -1;
}

int store_server_start_s3(struct store_server* srv, const char* bucket) {
  if (prepare_dir(srv, "s3rver") != 0) {
    fprintf(stderr,
            "s3rver: no node_modules (run npm ci in tests/interop) or no temp dir\n");
    return -1;
  }
  char script[1200], port[16];
  snprintf(script, sizeof(script), "%s/s3rver/bin/s3rver.js",
           store_harness_node_modules());
  snprintf(port, sizeof(port), "%d", srv->port);
  char* argv[] = {"node",
                  "--openssl-legacy-provider",
                  script,
                  "-d",
                  srv->dir,
                  "-a",
                  "127.0.0.1",
                  "-p",
                  port,
                  "-s",
                  "--configure-bucket",
                  (char*)bucket,
                  NULL};
  return spawn(srv, argv);
}

int store_server_start_s3_tls(struct store_server* srv, const char* bucket,
                              const char* key_pem, const char* cert_pem) {
  if (prepare_dir(srv, "s3rver-tls") != 0) {
    fprintf(stderr,
            "s3rver: no node_modules (run npm ci in tests/interop) or no temp dir\n");
    return -1;
  }
  snprintf(srv->endpoint, sizeof(srv->endpoint), "https://127.0.0.1:%d", srv->port);
  char script[1200], port[16];
  snprintf(script, sizeof(script), "%s/s3rver/bin/s3rver.js",
           store_harness_node_modules());
  snprintf(port, sizeof(port), "%d", srv->port);
  char* argv[] = {"node",
                  "--openssl-legacy-provider",
                  script,
                  "-d",
                  srv->dir,
                  "-a",
                  "127.0.0.1",
                  "-p",
                  port,
                  "-s",
                  "--key",
                  (char*)key_pem,
                  "--cert",
                  (char*)cert_pem,
                  "--configure-bucket",
                  (char*)bucket,
                  NULL};
  return spawn(srv, argv);
}

int store_server_start_azurite(struct store_server* srv) {
  if (prepare_dir(srv, "azurite") != 0) {
    fprintf(stderr,
            "azurite: no node_modules (run npm ci in tests/interop) or no temp dir\n");
    return -1;
  }
  char script[1200], port[16];
  snprintf(script, sizeof(script), "%s/azurite/dist/src/blob/main.js",
           store_harness_node_modules());
  snprintf(port, sizeof(port), "%d", srv->port);
  char* argv[] = {
      "node",    script, "--blobHost", "127.0.0.1",          "--blobPort",
      port,      "-l",   srv->dir,     "--disableTelemetry", "--skipApiVersionCheck",
      "--loose", "-s",   NULL};
  return spawn(srv, argv);
}

int store_server_start_azurite_oauth(struct store_server* srv, const char* key_pem,
                                     const char* cert_pem) {
  if (prepare_dir(srv, "azurite-oauth") != 0) {
    fprintf(stderr,
            "azurite: no node_modules (run npm ci in tests/interop) or no temp dir\n");
    return -1;
  }
  snprintf(srv->endpoint, sizeof(srv->endpoint), "https://127.0.0.1:%d", srv->port);
  char script[1200], port[16];
  snprintf(script, sizeof(script), "%s/azurite/dist/src/blob/main.js",
           store_harness_node_modules());
  snprintf(port, sizeof(port), "%d", srv->port);
  char* argv[] = {"node",
                  script,
                  "--blobHost",
                  "127.0.0.1",
                  "--blobPort",
                  port,
                  "-l",
                  srv->dir,
                  "--disableTelemetry",
                  "--skipApiVersionCheck",
                  "--loose",
                  "-s",
                  "--oauth",
                  "basic",
                  "--cert",
                  (char*)cert_pem,
                  "--key",
                  (char*)key_pem,
                  NULL};
  return spawn(srv, argv);
}

int store_server_start_gcs(struct store_server* srv, const char* token) {
  if (prepare_dir(srv, "gcs") != 0) {
    fprintf(stderr, "gcs_server: no node_modules or no temp dir\n");
    return -1;
  }
  char script[1200], port[16];
  snprintf(script, sizeof(script), "%s/tests/interop/gcs_server.mjs", OTAP_SOURCE_DIR);
  snprintf(port, sizeof(port), "%d", srv->port);
  char* argv[] = {"node",     script,   "--port",   port, "--dir",
                  srv->dir,   "--token", (char*)token, "--lifetime", "300",
                  NULL};
  return spawn(srv, argv);
}

static void rm_rf(const char* dir) {
  if (!dir[0] || strncmp(dir, "/tmp/otap-", 10) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    execlp("rm", "rm", "-rf", dir, (char*)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

void store_server_stop(struct store_server* srv) {
  if (srv->pid > 0) {
    kill(-srv->pid, SIGTERM);
    kill(srv->pid, SIGTERM);
    int status;
    bool gone = false;
    for (int i = 0; i < 60 && !gone; i++) {
      if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) gone = true;
      if (!gone) sleep_ms(50);
    }
    if (!gone) {
      kill(-srv->pid, SIGKILL);
      kill(srv->pid, SIGKILL);
      waitpid(srv->pid, &status, 0);
    }
    srv->pid = 0;
  }
  rm_rf(srv->dir);
  char log[512];
  snprintf(log, sizeof(log), "%s.log", srv->dir);
  if (srv->dir[0]) unlink(log);
  srv->dir[0] = '\0';
}

// ---------------------------------------------------------------------------------------------
// Fault proxy

struct conn {
  struct fault_proxy* p;
  int fd;
};

static int write_all(int fd, const char* b, size_t n) {
  while (n) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

// Reads one request (headers + Content-Length body) into a malloc'd buffer.
static char* read_request(int fd, size_t* len) {
  size_t cap = 1 << 16, n = 0;
  char* b = malloc(cap + 1);
  size_t need = 0;
  while (b) {
    if (n == cap) {
      cap *= 2;
      char* nb = realloc(b, cap + 1);
      if (!nb) break;
      b = nb;
    }
    ssize_t r = recv(fd, b + n, cap - n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    b[n] = '\0';
    if (!need) {
      char* end = strstr(b, "\r\n\r\n");
      if (!end) continue;
      size_t hl = (size_t)(end - b) + 4;
      size_t cl = 0;
      for (char* h = b; h < end; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, "content-length:", 15) == 0) cl = strtoull(h + 15, NULL, 10);
        if (!strstr(h, "\r\n")) break;
      }
      need = hl + cl;
    }
    if (need && n >= need) {
      *len = n;
      return b;
    }
  }
  free(b);
  return NULL;
}

static char* read_all(int fd, size_t* len) {
  size_t cap = 1 << 16, n = 0;
  char* b = malloc(cap);
  while (b) {
    if (n == cap) {
      cap *= 2;
      char* nb = realloc(b, cap);
      if (!nb) break;
      b = nb;
    }
    ssize_t r = recv(fd, b + n, cap - n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) {
      *len = n;
      return b;
    }
    n += (size_t)r;
  }
  free(b);
  return NULL;
}

static void* conn_main(void* arg) {
  struct conn* c = arg;
  struct fault_proxy* p = c->p;
  size_t qlen = 0, rlen = 0;
  char* req = read_request(c->fd, &qlen);
  char* resp = NULL;
  if (!req) goto out;
  __atomic_add_fetch(&p->requests, 1, __ATOMIC_SEQ_CST);
  int fault = PROXY_PASS;
  if (strncmp(req, "GET ", 4) == 0) {
    int left = __atomic_load_n(&p->fault_count, __ATOMIC_SEQ_CST);
    while (left > 0 &&
           !__atomic_compare_exchange_n(&p->fault_count, &left, left - 1, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    if (left > 0) fault = p->fault;
  }
  if (fault == PROXY_STATUS_500 || fault == PROXY_STATUS_503) {
    const char* body =
        fault == PROXY_STATUS_500
            ? "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>"
              "injected failure</Message><RequestId>PROXY500</RequestId></Error>"
            : "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>"
              "injected throttling</Message><RequestId>PROXY503</RequestId></Error>";
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %zu\r\n"
             "x-amz-request-id: %s\r\n%sConnection: close\r\n\r\n",
             fault == PROXY_STATUS_500 ? 500 : 503,
             fault == PROXY_STATUS_500 ? "Internal Server Error" : "Slow Down",
             strlen(body), fault == PROXY_STATUS_500 ? "PROXY500" : "PROXY503",
             fault == PROXY_STATUS_503 ? "Retry-After: 1\r\n" : "");
    write_all(c->fd, head, strlen(head));
    write_all(c->fd, body, strlen(body));
    goto out;
  }
  int up = connect_port(p->upstream_port);
  if (up < 0) goto out;
  // Insert "Connection: close" after the request line so upstream ends the reply with
  // EOF.
  char* eol = strstr(req, "\r\n");
  if (!eol || write_all(up, req, (size_t)(eol - req) + 2) ||
      write_all(up, "Connection: close\r\n", 19) ||
      write_all(up, eol + 2, qlen - (size_t)(eol + 2 - req))) {
    close(up);
    goto out;
  }
  resp = read_all(up, &rlen);
  close(up);
  if (!resp) goto out;
  char* hend = memmem(resp, rlen, "\r\n\r\n", 4);
  size_t hl = hend ? (size_t)(hend - resp) + 4 : rlen;
  size_t bl = rlen - hl;
  if (fault == PROXY_PASS || !hend || bl < 2) {
    write_all(c->fd, resp, rlen);
  } else if (fault == PROXY_SHORT_LIE) {
    // Rewrite Content-Length to half the body and send exactly that.
    size_t half = bl / 2;
    char* line = strstr(resp, "\r\n");
    while (line && line < hend) {
      char* h = line + 2;
      char* e = strstr(h, "\r\n");
      if (strncasecmp(h, "content-length:", 15) == 0 && e) {
        char cl[64];
        snprintf(cl, sizeof(cl), "Content-Length: %zu", half);
        write_all(c->fd, resp, (size_t)(h - resp));
        write_all(c->fd, cl, strlen(cl));
        write_all(c->fd, e, (size_t)(hend + 4 - e));
        write_all(c->fd, hend + 4, half);
        break;
      }
      line = e;
    }
  } else {
    write_all(c->fd, resp, hl + bl / 2);
    if (fault == PROXY_RESET_MIDBODY) {
      struct linger lg = {1, 0};
      setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else if (fault == PROXY_STALL) {
      // Hold the connection open, sending nothing, until the client gives up (bounded).
      struct pollfd pfd = {c->fd, POLLIN, 0};
      for (int i = 0; i < 300 && !p->stop; i++) {
        if (poll(&pfd, 1, 100) > 0) {
          char tmp[256];
          if (recv(c->fd, tmp, sizeof(tmp), 0) <= 0) break;
        }
      }
    }
  }
out:
  free(req);
  free(resp);
  close(c->fd);
  free(c);
  return NULL;
}

static void* accept_main(void* arg) {
  struct fault_proxy* p = arg;
  while (!p->stop) {
    struct pollfd pfd = {p->listen_fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0) continue;
    struct conn* c = malloc(sizeof(*c));
    if (!c) {
      close(fd);
      continue;
    }
    c->p = p;
    c->fd = fd;
    pthread_t t;
    if (pthread_create(&t, NULL, conn_main, c) != 0) {
      close(fd);
      free(c);
      continue;
    }
    pthread_detach(t);
  }
  return NULL;
}

int fault_proxy_start(struct fault_proxy* p, int upstream_port) {
  memset(p, 0, sizeof(*p));
  p->upstream_port = upstream_port;
  p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof(a);
  if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr*)&a, sizeof(a)) != 0 ||
      listen(p->listen_fd, 64) != 0 ||
      getsockname(p->listen_fd, (struct sockaddr*)&a, &l) != 0) {
    return -1;
  }
  p->port = ntohs(a.sin_port);
  snprintf(p->endpoint, sizeof(p->endpoint), "http://127.0.0.1:%d", p->port);
  return pthread_create(&p->thread, NULL, accept_main, p) == 0 ? 0 : -1;
}

void fault_proxy_set(struct fault_proxy* p, enum proxy_fault fault, int count) {
  p->fault = fault;
  __atomic_store_n(&p->fault_count, count, __ATOMIC_SEQ_CST);
}

void fault_proxy_stop(struct fault_proxy* p) {
  p->stop = 1;
  pthread_join(p->thread, NULL);
  close(p->listen_fd);
  sleep_ms(200);  // let detached connection threads finish (they poll p->stop)
}
