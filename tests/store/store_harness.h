// Test/bench harness for the store module: launches s3rver and Azurite (from
// tests/interop/node_modules) on 127.0.0.1 with ephemeral ports and a temp data
// directory, and a fault-injection HTTP proxy of our own between client and server.
#ifndef OTAP_STORE_HARNESS_H
#define OTAP_STORE_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct store_server {
  pid_t pid;
  int port;
  char dir[256];      // temp data directory (removed by stop)
  char endpoint[64];  // http://127.0.0.1:PORT (https:// with TLS)
};

/// Starts s3rver with `bucket` configured. Returns 0 or -1 (message on stderr).
int store_server_start_s3(struct store_server* srv, const char* bucket);
/// As store_server_start_s3, serving https with the given PEM key and certificate.
int store_server_start_s3_tls(struct store_server* srv, const char* bucket,
                              const char* key_pem, const char* cert_pem);
/// Starts Azurite's blob service (account devstoreaccount1).
int store_server_start_azurite(struct store_server* srv);
/// Azurite over https with `--oauth basic` (accepts well-formed bearer tokens).
int store_server_start_azurite_oauth(struct store_server* srv, const char* key_pem,
                                     const char* cert_pem);
/// Starts tests/interop/gcs_server.mjs (GCS JSON API) requiring `Bearer TOKEN`.
int store_server_start_gcs(struct store_server* srv, const char* token);
/// Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its directory.
void store_server_stop(struct store_server* srv);

enum proxy_fault {
  PROXY_PASS = 0,
  PROXY_STATUS_500,     // answer 500 with an S3-style XML error
  PROXY_STATUS_503,     // answer 503 SlowDown
  PROXY_RESET_MIDBODY,  // forward headers + half the body, then reset the connection
  PROXY_TRUNCATE,       // forward headers + half the body, then close cleanly
  PROXY_STALL,      // forward headers + half the body, then stall until the client leaves
  PROXY_SHORT_LIE,  // rewrite Content-Length to half and send that half (looks complete)
};

struct fault_proxy {
  int listen_fd;
  int port;
  int upstream_port;
  pthread_t thread;
  volatile int stop;
  // The fault applies to the next `fault_count` requests (then requests pass through).
  volatile int fault;
  volatile int fault_count;
  volatile int requests;  // total requests seen
  char endpoint[64];
};

int fault_proxy_start(struct fault_proxy* p, int upstream_port);
void fault_proxy_set(struct fault_proxy* p, enum proxy_fault fault, int count);
void fault_proxy_stop(struct fault_proxy* p);

/// Path of tests/interop/node_modules/.bin/NAME's package entry (see .c); NULL if
/// missing.
const char* store_harness_node_modules(void);

#endif
